#include "sdk_flags.hpp"

#include <gatehouse/config_error.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace examples {

bool sdk_flags::take(std::string_view flag, const std::function<std::string()>& value) {
  if (flag == "--sdk")
    type = value();
  else if (flag == "--out")
    out = value();
  else if (flag == "--invoke-url")
    options.invoke_url = value();
  else if (flag == "--sdk-name")
    options.name = value();
  else
    return false;
  return true;
}

std::string sdk_flags::check() const {
  if (type.empty()) {
    if (!out.empty() || !options.invoke_url.empty() || !options.name.empty())
      return "--out, --invoke-url and --sdk-name go with --sdk";
    return "";
  }
  if (out.empty()) return "--sdk TYPE needs --out DIR";
  try {
    gatehouse::parse_sdk_type(type);
  } catch (const gatehouse::config_error& e) {
    return e.what();
  }
  return "";
}

bool write_sdk(const gatehouse::sdk_files& files, const std::string& dir, const char* program) {
  namespace fs = std::filesystem;
  for (const auto& [path, contents] : files) {
    const fs::path file = fs::path(dir) / path;
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    if (ec || !(out << contents) || !out.flush()) {
      std::fprintf(stderr, "%s: cannot write %s\n", program, file.c_str());
      return false;
    }
    std::printf("%s: wrote %s\n", program, file.c_str());
  }
  return true;
}

}  // namespace examples
