// sdk_zip: an SDK's files as a zip archive (PKWARE APPNOTE 6.3): entries stored, not deflated
// (a generated SDK is small and the archive only carries it), names in UTF-8, the date fixed at
// 1980-01-01 so that the same SDK is the same archive.

#include <gatehouse/config_error.hpp>
#include <gatehouse/sdk.hpp>

#include <array>
#include <cstdint>
#include <limits>

namespace gatehouse {

namespace {

// CRC-32 (ISO-HDLC, reflected polynomial 0xEDB88320), as zip checks its entries.
std::uint32_t crc32(std::string_view data) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void put16(std::string& out, std::uint32_t v) {
  out += static_cast<char>(v & 0xFF);
  out += static_cast<char>((v >> 8) & 0xFF);
}
void put32(std::string& out, std::uint32_t v) {
  put16(out, v & 0xFFFF);
  put16(out, v >> 16);
}

constexpr std::uint32_t utf8_names = 0x0800;  // general purpose flag bit 11
constexpr std::uint32_t dos_date_1980_01_01 = (0 << 9) | (1 << 5) | 1;

}  // namespace

std::string sdk_zip(const sdk_files& files, std::string_view folder) {
  std::string out, central;
  std::uint32_t count = 0;
  for (const auto& [path, contents] : files) {
    std::string name(folder);
    if (!name.empty() && !name.ends_with('/')) name += '/';
    name += path;
    if (out.size() + contents.size() + name.size() + 30 >
            std::numeric_limits<std::uint32_t>::max() ||
        name.size() > 0xFFFF || count == 0xFFFF)
      throw config_error("sdk_zip: the files are too large for a zip archive without zip64");
    const std::uint32_t offset = static_cast<std::uint32_t>(out.size());
    const std::uint32_t crc = crc32(contents);
    const auto size = static_cast<std::uint32_t>(contents.size());
    // Local file header.
    put32(out, 0x04034b50);
    put16(out, 10);  // version needed: stored entries
    put16(out, utf8_names);
    put16(out, 0);  // method: stored
    put16(out, 0);  // time 00:00:00
    put16(out, dos_date_1980_01_01);
    put32(out, crc);
    put32(out, size);
    put32(out, size);
    put16(out, static_cast<std::uint32_t>(name.size()));
    put16(out, 0);  // extra field length
    out += name;
    out += contents;
    // Its central directory entry.
    put32(central, 0x02014b50);
    put16(central, (3 << 8) | 20);  // made by: Unix, zip 2.0 (so the mode below is read)
    put16(central, 10);
    put16(central, utf8_names);
    put16(central, 0);
    put16(central, 0);
    put16(central, dos_date_1980_01_01);
    put32(central, crc);
    put32(central, size);
    put32(central, size);
    put16(central, static_cast<std::uint32_t>(name.size()));
    put16(central, 0);               // extra field
    put16(central, 0);               // comment
    put16(central, 0);               // disk
    put16(central, 0);               // internal attributes
    put32(central, 0100644u << 16);  // external attributes: a regular file, rw-r--r--
    put32(central, offset);
    central += name;
    ++count;
  }
  const auto central_offset = static_cast<std::uint32_t>(out.size());
  out += central;
  // End of central directory.
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, count);
  put16(out, count);
  put32(out, static_cast<std::uint32_t>(central.size()));
  put32(out, central_offset);
  put16(out, 0);  // comment length
  return out;
}

}  // namespace gatehouse
