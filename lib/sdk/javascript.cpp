// Placeholder until the javascript generator lands.

#include "sdk/sdk_model.hpp"

#include <gatehouse/config_error.hpp>

namespace gatehouse::sdk {

sdk_files generate_javascript(const api& a) {
  (void)a;
  throw config_error("sdk: the javascript generator is not written yet");
}

}  // namespace gatehouse::sdk
