// Placeholder until the typescript generator lands.

#include "sdk/sdk_model.hpp"

#include <gatehouse/config_error.hpp>

namespace gatehouse::sdk {

sdk_files generate_typescript(const api& a) {
  (void)a;
  throw config_error("sdk: the typescript generator is not written yet");
}

}  // namespace gatehouse::sdk
