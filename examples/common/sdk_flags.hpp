#pragma once

// The example servers' SDK flags: --sdk javascript|typescript|cpp --out DIR [--invoke-url URL]
// [--sdk-name NAME] write a client SDK of the API (gatehouse::generate_sdk) and exit.

#include <gatehouse/sdk.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace examples {

struct sdk_flags {
  std::string type;  ///< "" when no SDK is asked for
  std::string out;
  gatehouse::sdk_options options;

  /// Takes `flag` if it is one of --sdk, --out, --invoke-url, --sdk-name.
  bool take(std::string_view flag, const std::function<std::string()>& value);
  /// What is wrong with the flags together, or "".
  std::string check() const;
  bool wanted() const { return !type.empty(); }
  static constexpr const char* usage =
      "[--sdk javascript|typescript|cpp --out DIR [--invoke-url URL] [--sdk-name NAME]]";
};

/// Writes `files` under `dir` (folders made as needed); says which files on stdout. False, with
/// the reason on stderr, when one cannot be written.
bool write_sdk(const gatehouse::sdk_files& files, const std::string& dir, const char* program);

}  // namespace examples
