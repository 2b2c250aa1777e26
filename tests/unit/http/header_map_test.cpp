#include "util/access.hpp"

#include <gatehouse/http.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using gatehouse::header_map;

namespace {
std::vector<std::string> listed(const header_map& h) {
  std::vector<std::string> out;
  for (const auto& f : h) out.push_back(f.name + "=" + f.value);
  return out;
}
}  // namespace

TEST_CASE("header_map keeps order and repeats, and finds names case-insensitively") {
  header_map h;
  h.add("Host", "x");
  h.add("Accept", "a");
  h.add("accept", "b");
  CHECK(h.size() == 3);
  CHECK(h.get("ACCEPT") == "a");
  CHECK(h.get_all("Accept") == std::vector<std::string_view>{"a", "b"});
  CHECK_FALSE(h.get("Cookie"));

  h.set("ACCEPT", "c");  // replaces the first, removes the repeat
  CHECK(listed(h) == std::vector<std::string>{"Host=x", "Accept=c"});
  h.set("Via", "v");
  CHECK(listed(h) == std::vector<std::string>{"Host=x", "Accept=c", "Via=v"});
  CHECK(h.erase("host") == 1);
  CHECK(listed(h) == std::vector<std::string>{"Accept=c", "Via=v"});
  CHECK(h.erase_if([](auto& f) { return f.name == "Accept"; }) == 1);
  CHECK(listed(h) == std::vector<std::string>{"Via=v"});
}

TEST_CASE("header_map reuses the space of cleared fields without showing their contents") {
  header_map h;
  const std::string long_value(200, 'v');
  h.add("X-Long", long_value);
  h.add("X-Other", "o");
  h.erase("X-Long");
  CHECK(listed(h) == std::vector<std::string>{"X-Other=o"});
  h.clear();
  CHECK(h.empty());
  CHECK(h.begin() == h.end());
  CHECK_FALSE(h.get("X-Other"));

  // Fields added after clear() start empty, whatever the reused slots held.
  auto& f = gatehouse::detail::access::add_empty(h);
  CHECK(f.name.empty());
  CHECK(f.value.empty());
  f.name = "Host";
  f.value.append("h");
  gatehouse::detail::access::add_empty(h).name = "X-Next";
  CHECK(listed(h) == std::vector<std::string>{"Host=h", "X-Next="});

  // Copies and moves carry the fields only.
  header_map copy = h;
  CHECK(listed(copy) == listed(h));
  header_map assigned;
  assigned.add("Old", "1");
  assigned.add("Old2", "2");
  assigned.add("Old3", "3");
  assigned = h;
  CHECK(listed(assigned) == listed(h));
  header_map moved = std::move(copy);
  CHECK(listed(moved) == listed(h));
  CHECK(copy.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  copy.add("After", "move");
  CHECK(listed(copy) == std::vector<std::string>{"After=move"});
  moved = std::move(assigned);
  CHECK(listed(moved) == listed(h));
}

TEST_CASE("add_for_overwrite reuses a cleared field's place and grows past the old fields") {
  header_map h;
  h.add("Content-Type", "application/json");
  h.add("x-cache", "Hit");
  h.clear();
  // A reused place may show what it held; the caller sets both parts.
  auto& first = gatehouse::detail::access::add_for_overwrite(h);
  first.name = "Content-Type";
  first.value = "text/plain";
  auto& second = gatehouse::detail::access::add_for_overwrite(h);
  second.name = "Warning";
  second.value = "199 - \"ignored\"";
  auto& third = gatehouse::detail::access::add_for_overwrite(
      h);  // beyond the fields clear() kept: a new, empty one
  CHECK(third.name.empty());
  CHECK(third.value.empty());
  third.name = "x-cache";
  third.value = "Miss";
  CHECK(listed(h) == std::vector<std::string>{"Content-Type=text/plain",
                                              "Warning=199 - \"ignored\"", "x-cache=Miss"});
  CHECK(h.get("x-cache") == "Miss");
}

TEST_CASE("iequals folds ASCII letters only, at every position of long and short names") {
  const auto reference = [](unsigned char x, unsigned char y) {
    const auto fold = [](unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; };
    return fold(x) == fold(y);
  };
  std::string a = "content-length:xyz";  // 18 characters: two words of eight and two more
  std::string b = a;
  for (std::size_t at : {0u, 5u, 7u, 8u, 15u, 17u}) {
    for (int x = 0; x < 256; ++x)
      for (int y = 0; y < 256; ++y) {
        a[at] = static_cast<char>(x);
        b[at] = static_cast<char>(y);
        if (gatehouse::iequals(a, b) != reference(x, y)) FAIL("bytes " << x << " and " << y);
      }
    a[at] = b[at] = 'z';
  }
  CHECK(gatehouse::iequals("Content-Length", "CONTENT-LENGTH"));
  CHECK(gatehouse::iequals("x-AMZ-date", "X-Amz-Date"));
  CHECK_FALSE(gatehouse::iequals("X-Amz-Date", "X-Amz-Datf"));
  CHECK_FALSE(gatehouse::iequals("Host", "Hos"));
  CHECK(gatehouse::iequals("", ""));
}
