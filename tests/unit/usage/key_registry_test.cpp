#include "usage/key_registry.hpp"
#include "usage/plan_state.hpp"
#include "usage/quota_period.hpp"
#include "util/access.hpp"

#include <gatehouse/gatehouse.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using gatehouse::admission;
using gatehouse::admission_verdict;
using gatehouse::api_key;
using gatehouse::api_key_spec;
using gatehouse::config_error;
using gatehouse::quota_check;
using gatehouse::quota_period;
using gatehouse::quota_settings;
using gatehouse::usage_plan_options;
using gatehouse::UsagePlan;
using gatehouse::detail::hash_key;
using gatehouse::detail::key_registry;
using gatehouse::detail::plan_state;

using std::chrono::sys_days;
using std::chrono::year;
using std::chrono::year_month_day;

namespace {
const std::string value_a = "AAAAAAAAAAbbbbbbbbbb0123456789";            // 30
const std::string value_b = "BBBBBBBBBBccccccccccdddddddddd9876543210";  // 40
const std::string value_c = "CCCCCCCCCCeeeeeeeeee11111111112222222222";  // 40
// SHA-256 of this value, computed with sha256sum.
const std::string known_value = "KnownValue0123456789abcdefghijklmnopqrstuvwxyz";
const std::string known_sha256 = "fe5f9bc0ee4ca6fd434a504b741880fbb7c101d535add7adfa3c66f30c88f951";

// `text` with {A}, {B} and {C} replaced by value_a … value_c.
std::string with_values(std::string text) {
  const std::pair<std::string_view, const std::string*> marks[] = {
      {"{A}", &value_a}, {"{B}", &value_b}, {"{C}", &value_c}};
  for (auto [mark, value] : marks)
    for (auto at = text.find(mark); at != std::string::npos; at = text.find(mark, at))
      text.replace(at, mark.size(), *value);
  return text;
}

// The plans a registry can find by id, as the gateway's mounted plans.
struct plans {
  std::map<std::string, std::shared_ptr<const plan_state>, std::less<>> by_id;
  void add(const UsagePlan& p) { by_id[p.id()] = gatehouse::detail::access::state(p); }
  key_registry::plan_finder finder() {
    return [this](std::string_view id) -> std::shared_ptr<const plan_state> {
      auto it = by_id.find(id);
      return it == by_id.end() ? nullptr : it->second;
    };
  }
};

bool alnum(const std::string& s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const config_error& e) {
    return e.what();
  }
  return "<no config_error>";
}

std::string hex(const gatehouse::detail::key_hash& h) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (auto b : h) out.push_back(digits[b >> 4]), out.push_back(digits[b & 15]);
  return out;
}

api_key_spec spec(std::string name, std::optional<std::string> value = std::nullopt,
                  std::vector<std::string> plan_ids = {}) {
  api_key_spec s;
  s.name = std::move(name);
  s.value = std::move(value);
  s.usage_plan_ids = std::move(plan_ids);
  return s;
}

std::set<std::string> ids_of(const std::vector<api_key>& keys) {
  std::set<std::string> out;
  for (const auto& k : keys) out.insert(k.id);
  return out;
}

std::string day_text(year_month_day d) { return gatehouse::usage::day_text(d); }

// Counts `n` admitted requests of `key_id` in `plan` on day `d`, as the pipeline would: a
// quota counter for the period, a usage counter for the day.
void count_requests(gatehouse::store& s, const UsagePlan& plan, const std::string& key_id,
                    year_month_day d, int n) {
  const auto now = std::chrono::system_clock::now();
  const std::string usage_key = "usage/" + plan.id() + "/" + key_id + "/" + day_text(d);
  std::string quota_key;
  admission a;
  a.usage_key = usage_key;
  a.usage_expires = now + std::chrono::days{400};
  if (plan.options().quota) {
    const auto w = gatehouse::usage::period_at(plan.options().quota->period, sys_days{d});
    quota_key = "quota/" + plan.id() + "/" + key_id + "/" +
                day_text(year_month_day{std::chrono::floor<std::chrono::days>(w.start)});
    a.quota = quota_check{quota_key, 1'000'000, now + std::chrono::days{400}};
  }
  for (int i = 0; i < n; ++i) {
    auto r = s.try_admit(a, now);
    REQUIRE(r);
    REQUIRE(r->verdict == admission_verdict::admitted);
  }
}
}  // namespace

TEST_CASE("SHA-256 of key values", "[usage]") {
  CHECK(hex(hash_key("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex(hash_key(known_value)) == known_sha256);
  CHECK(hash_key(value_a) != hash_key(value_b));
}

TEST_CASE("create() returns a 40-character alphanumeric value, once", "[usage]") {
  auto store = gatehouse::make_memory_store();
  plans p;
  key_registry reg(store, p.finder());

  api_key_spec s = spec("first");
  s.description = "the first key";
  const api_key k = reg.create(s);
  REQUIRE(k.value.has_value());
  CHECK(k.value->size() == 40);
  CHECK(alnum(*k.value));
  CHECK(k.name == "first");
  CHECK(k.description == "the first key");
  CHECK(k.enabled);
  CHECK(k.id.size() == 10);
  CHECK(alnum(k.id));
  const auto age = std::chrono::system_clock::now() - k.created;
  CHECK(age >= std::chrono::seconds{0});
  CHECK(age < std::chrono::minutes{1});

  // get() and list() never include the value.
  const auto got = reg.get(k.id);
  REQUIRE(got);
  CHECK_FALSE(got->value.has_value());
  CHECK(got->name == "first");
  CHECK(got->description == "the first key");
  const auto all = reg.list();
  REQUIRE(all.size() == 1);
  CHECK(all[0].id == k.id);
  CHECK_FALSE(all[0].value.has_value());
  CHECK_FALSE(reg.get("nosuchid").has_value());

  // Generated values differ from key to key.
  std::set<std::string> values{*k.value};
  for (int i = 0; i < 20; ++i) {
    std::string name = "k";
    name += std::to_string(i);
    const auto v = reg.create(spec(name)).value;
    REQUIRE(v);
    CHECK(v->size() == 40);
    values.insert(*v);
  }
  CHECK(values.size() == 21);
  CHECK(reg.list().size() == 21);
  CHECK(ids_of(reg.list()).size() == 21);
}

TEST_CASE("a given value must be 20 to 128 letters and digits, and unique", "[usage]") {
  auto store = gatehouse::make_memory_store();
  plans p;
  key_registry reg(store, p.finder());

  const auto twenty = std::string(20, 'x');
  const auto k = reg.create(spec("twenty", twenty));
  CHECK(k.value == twenty);
  CHECK(reg.create(spec("max", std::string(128, 'Y'))).value == std::string(128, 'Y'));

  for (const std::string& bad :
       {std::string(19, 'x'), std::string(129, 'x'), std::string("abcdefghij-klmnopqrstu"),
        std::string("abcdefghij klmnopqrstu"), std::string("")}) {
    INFO("value '" << bad << "'");
    const auto e = error_of([&] { reg.create(spec("bad", bad)); });
    CHECK(e.find("API key 'bad'") != std::string::npos);
    CHECK(e.find("20 to 128") != std::string::npos);
  }
  // A duplicate value.
  const auto dup = error_of([&] { reg.create(spec("again", twenty)); });
  CHECK(dup.find("another key has this value") != std::string::npos);
  // A bad name.
  CHECK(error_of([&] { reg.create(spec("", value_a)); }).find("name") != std::string::npos);
  CHECK(error_of([&] { reg.create(spec(std::string(1025, 'n'), value_a)); }).find("name") !=
        std::string::npos);
  CHECK(reg.list().size() == 2);  // nothing refused was added
}

TEST_CASE("find() by value: the right record, or null for any other value", "[usage]") {
  auto store = gatehouse::make_memory_store();
  plans p;
  key_registry reg(store, p.finder());
  const auto a = reg.create(spec("a", value_a));
  const auto b = reg.create(spec("b", value_b));

  auto fa = reg.find(value_a);
  REQUIRE(fa);
  CHECK(fa->id == a.id);
  CHECK(fa->name == "a");
  CHECK(fa->hash == hash_key(value_a));
  auto fb = reg.find(value_b);
  REQUIRE(fb);
  CHECK(fb->id == b.id);

  // One character different, anywhere, or a prefix / extension: not found.
  for (std::size_t i = 0; i < value_a.size(); ++i) {
    std::string v = value_a;
    v[i] = v[i] == 'Z' ? 'Y' : 'Z';
    INFO("changed at " << i);
    CHECK(reg.find(v) == nullptr);
  }
  CHECK(reg.find(value_a.substr(0, 29)) == nullptr);
  CHECK(reg.find(value_a + "0") == nullptr);
  CHECK(reg.find("") == nullptr);
  CHECK(reg.find(value_c) == nullptr);
}

TEST_CASE("the store keeps a SHA-256 of the value, never the value", "[usage]") {
  auto store = gatehouse::make_memory_store();
  plans p;
  key_registry reg(store, p.finder());
  const auto known = reg.create(spec("known", known_value));
  const auto gen = reg.create(spec("generated"));
  REQUIRE(gen.value);

  const auto records = store->scan("apikey/");
  REQUIRE(records.size() == 2);
  std::map<std::string, std::string> by_key(records.begin(), records.end());
  REQUIRE(by_key.count("apikey/" + known.id) == 1);
  REQUIRE(by_key.count("apikey/" + gen.id) == 1);
  const auto& known_record = by_key["apikey/" + known.id];
  const auto& gen_record = by_key["apikey/" + gen.id];
  CHECK(known_record.find(known_sha256) != std::string::npos);
  CHECK(gen_record.find(hex(hash_key(*gen.value))) != std::string::npos);
  for (const auto& [k, v] : records) {
    INFO(k << " = " << v);
    CHECK(v.find(known_value) == std::string::npos);
    CHECK(v.find(*gen.value) == std::string::npos);
    // Nor any long piece of it.
    CHECK(v.find(known_value.substr(0, 20)) == std::string::npos);
    CHECK(v.find(gen.value->substr(10, 20)) == std::string::npos);
  }
}

TEST_CASE("enable, disable and remove", "[usage]") {
  auto store = gatehouse::make_memory_store();
  plans p;
  key_registry reg(store, p.finder());
  const auto k = reg.create(spec("k", value_a));
  const auto other = reg.create(spec("other", value_b));

  CHECK(reg.enable(k.id, false));
  CHECK_FALSE(reg.get(k.id)->enabled);
  REQUIRE(reg.find(value_a));
  CHECK_FALSE(reg.find(value_a)->enabled);  // still found, seen as disabled
  CHECK(reg.get(other.id)->enabled);
  CHECK(reg.enable(k.id, true));
  CHECK(reg.get(k.id)->enabled);
  CHECK(reg.find(value_a)->enabled);
  CHECK_FALSE(reg.enable("nosuchid", false));

  CHECK(reg.remove(k.id));
  CHECK_FALSE(reg.get(k.id));
  CHECK(reg.find(value_a) == nullptr);
  CHECK_FALSE(reg.remove(k.id));
  CHECK_FALSE(store->get("apikey/" + k.id));
  CHECK(store->scan("apikey/").size() == 1);
  REQUIRE(reg.list().size() == 1);
  CHECK(reg.list()[0].id == other.id);
  // The value is free again.
  const auto again = reg.create(spec("again", value_a));
  CHECK(again.id != k.id);
  CHECK(reg.find(value_a)->id == again.id);

  SECTION("a key created disabled") {
    api_key_spec s = spec("off", value_c);
    s.enabled = false;
    const auto off = reg.create(s);
    CHECK_FALSE(off.enabled);
    CHECK_FALSE(reg.find(value_c)->enabled);
  }
}

TEST_CASE("keys join and leave plans; unknown plans are refused", "[usage]") {
  auto store = gatehouse::make_memory_store();
  plans p;
  UsagePlan gold({.name = "gold", .id = "gold"});
  UsagePlan silver({.name = "silver", .id = "silver"});
  p.add(gold);
  p.add(silver);
  key_registry reg(store, p.finder());

  const auto k = reg.create(spec("k", value_a, {"gold"}));
  CHECK(k.usage_plan_ids == std::vector<std::string>{"gold"});
  CHECK(reg.find(value_a)->in_plan("gold"));
  CHECK_FALSE(reg.find(value_a)->in_plan("silver"));

  reg.add_to_plan(k.id, gatehouse::detail::access::state(silver));
  CHECK(reg.get(k.id)->usage_plan_ids == std::vector<std::string>{"gold", "silver"});
  CHECK(reg.find(value_a)->in_plan("silver"));
  reg.add_to_plan(k.id, gatehouse::detail::access::state(silver));  // again: no change
  CHECK(reg.get(k.id)->usage_plan_ids == std::vector<std::string>{"gold", "silver"});

  CHECK(reg.remove_from_plan(k.id, *gatehouse::detail::access::state(gold)));
  CHECK(reg.get(k.id)->usage_plan_ids == std::vector<std::string>{"silver"});
  CHECK_FALSE(reg.find(value_a)->in_plan("gold"));
  CHECK_FALSE(reg.remove_from_plan(k.id, *gatehouse::detail::access::state(gold)));
  CHECK_FALSE(reg.remove_from_plan("nosuchid", *gatehouse::detail::access::state(silver)));
  // The store's record follows.
  CHECK(store->get("apikey/" + k.id)->find("\"usagePlanIds\":[\"silver\"]") != std::string::npos);

  // A plan that is not mounted anywhere may be joined directly (add_to_plan gets the plan).
  UsagePlan loose({.name = "loose", .id = "loose"});
  CHECK_NOTHROW(reg.add_to_plan(k.id, gatehouse::detail::access::state(loose)));
  CHECK(reg.find(value_a)->in_plan("loose"));

  // Unknown key.
  CHECK(error_of([&] {
          reg.add_to_plan("nosuchid", gatehouse::detail::access::state(gold));
        }).find("no such key") != std::string::npos);
  // An unknown plan id at creation: refused, nothing created.
  const auto e = error_of([&] { reg.create(spec("x", value_b, {"gold", "bronze"})); });
  CHECK(e.find("'bronze'") != std::string::npos);
  CHECK(e.find("API key 'x'") != std::string::npos);
  CHECK(reg.find(value_b) == nullptr);
  CHECK(reg.list().size() == 1);
}

TEST_CASE("a key may be in only one plan per stage", "[usage]") {
  gatehouse::Router api;
  api.route("GET", "/pets", gatehouse::mock({.body = "[]"}));
  gatehouse::Stage prod{"prod", api.deploy()};
  gatehouse::Stage beta{"beta", api.deploy()};
  UsagePlan gold({.name = "gold", .id = "gold"});
  UsagePlan silver({.name = "silver", .id = "silver"});
  UsagePlan other({.name = "other", .id = "other"});
  gold.attach(prod);
  silver.attach(prod);
  other.attach(beta);

  auto store = gatehouse::make_memory_store();
  plans p;
  p.add(gold);
  p.add(silver);
  p.add(other);
  key_registry reg(store, p.finder());

  // Two plans on one stage, at creation.
  const auto e = error_of([&] { reg.create(spec("both", value_a, {"gold", "silver"})); });
  CHECK(e.find("'gold'") != std::string::npos);
  CHECK(e.find("'silver'") != std::string::npos);
  CHECK(e.find("stage 'prod'") != std::string::npos);
  CHECK(reg.find(value_a) == nullptr);

  // Plans on different stages are fine.
  const auto k = reg.create(spec("k", value_a, {"gold", "other"}));
  CHECK(k.usage_plan_ids == std::vector<std::string>{"gold", "other"});

  // Joining a second plan on the same stage later.
  const auto e2 =
      error_of([&] { reg.add_to_plan(k.id, gatehouse::detail::access::state(silver)); });
  CHECK(e2.find("stage 'prod'") != std::string::npos);
  CHECK(reg.get(k.id)->usage_plan_ids == std::vector<std::string>{"gold", "other"});
  // After leaving gold, silver may be joined.
  REQUIRE(reg.remove_from_plan(k.id, *gatehouse::detail::access::state(gold)));
  CHECK_NOTHROW(reg.add_to_plan(k.id, gatehouse::detail::access::state(silver)));
  CHECK(reg.get(k.id)->usage_plan_ids == std::vector<std::string>{"other", "silver"});

  // The same rule in an import.
  const std::string csv = with_values(
      "Name,Key,UsagePlanIds\n"
      "x,{B},\"gold,silver\"\n");
  const auto e3 = error_of([&] { reg.import_csv(csv); });
  CHECK(e3.find("line 2") != std::string::npos);
  CHECK(e3.find("stage 'prod'") != std::string::npos);
  CHECK(reg.find(value_b) == nullptr);
}

TEST_CASE("import_csv: good files import every row", "[usage]") {
  auto store = gatehouse::make_memory_store();
  plans p;
  UsagePlan gold({.name = "gold", .id = "gold"});
  p.add(gold);
  key_registry reg(store, p.finder());

  const std::string csv = with_values(
      "Name,Key,Description,Enabled,UsagePlanIds\n"
      "a,{A},first,true,gold\n"
      "b,{B},second,false,\n");
  const auto ids = reg.import_csv(csv);
  REQUIRE(ids.size() == 2);
  CHECK(ids[0] != ids[1]);
  const auto a = reg.get(ids[0]);
  REQUIRE(a);
  CHECK(a->name == "a");
  CHECK(a->description == "first");
  CHECK(a->enabled);
  CHECK(a->usage_plan_ids == std::vector<std::string>{"gold"});
  CHECK_FALSE(a->value.has_value());
  const auto b = reg.get(ids[1]);
  REQUIRE(b);
  CHECK_FALSE(b->enabled);
  CHECK(reg.find(value_a)->id == ids[0]);
  CHECK(reg.find(value_b)->id == ids[1]);
  CHECK(store->scan("apikey/").size() == 2);
}

TEST_CASE("import_csv is all or nothing, and names the bad line", "[usage]") {
  auto store = gatehouse::make_memory_store();
  plans p;
  UsagePlan gold({.name = "gold", .id = "gold"});
  p.add(gold);
  key_registry reg(store, p.finder());
  const auto existing = reg.create(spec("existing", value_c));
  const auto before = ids_of(reg.list());

  SECTION("one row with a bad key") {
    const std::string csv = with_values(
        "Name,Key\n"
        "a,{A}\n"
        "b,tooshort\n"
        "d,{B}\n");
    const auto e = error_of([&] { reg.import_csv(csv); });
    CHECK(e.find("nothing imported") != std::string::npos);
    CHECK(e.find("line 3:") != std::string::npos);
    CHECK(e.find("line 2:") == std::string::npos);
    CHECK(e.find("line 4:") == std::string::npos);
  }
  SECTION("one row with an unknown plan") {
    const std::string csv = with_values(
        "Name,Key,UsagePlanIds\n"
        "a,{A},gold\n"
        "b,{B},\"gold,nosuchplan\"\n");
    const auto e = error_of([&] { reg.import_csv(csv); });
    CHECK(e.find("line 3") != std::string::npos);
    CHECK(e.find("'nosuchplan'") != std::string::npos);
  }
  SECTION("one row that would update an existing key, with a bad Enabled") {
    const std::string csv = with_values(
        "Name,Key,Enabled\n"
        "renamed,{C},maybe\n"
        "a,{A},true\n");
    const auto e = error_of([&] { reg.import_csv(csv); });
    CHECK(e.find("line 2:") != std::string::npos);
    CHECK(reg.get(existing.id)->name == "existing");
  }
  SECTION("a bad header") {
    const auto e = error_of([&] { reg.import_csv(with_values("Name,Value\na,{A}\n")); });
    CHECK(e.find("line 1:") != std::string::npos);
  }
  CHECK(ids_of(reg.list()) == before);
  CHECK(reg.find(value_a) == nullptr);
  CHECK(reg.find(value_b) == nullptr);
  CHECK(store->scan("apikey/").size() == 1);
}

TEST_CASE("import_csv updates a key whose value exists instead of adding one", "[usage]") {
  auto store = gatehouse::make_memory_store();
  plans p;
  UsagePlan gold({.name = "gold", .id = "gold"});
  p.add(gold);
  key_registry reg(store, p.finder());
  api_key_spec s = spec("old name", value_a);
  s.description = "old";
  const auto k = reg.create(s);

  const std::string csv = with_values(
      "name,key,description,enabled,usageplanids\n"
      "new name,{A},new,false,gold\n"
      "fresh,{B},,,\n");
  const auto ids = reg.import_csv(csv);
  REQUIRE(ids.size() == 2);
  CHECK(ids[0] == k.id);
  CHECK(ids[1] != k.id);
  CHECK(reg.list().size() == 2);
  const auto updated = reg.get(k.id);
  REQUIRE(updated);
  CHECK(updated->name == "new name");
  CHECK(updated->description == "new");
  CHECK_FALSE(updated->enabled);
  CHECK(updated->usage_plan_ids == std::vector<std::string>{"gold"});
  CHECK(updated->created == k.created);
  CHECK(reg.find(value_a)->id == k.id);
  CHECK(store->scan("apikey/").size() == 2);

  // Importing the same file again changes nothing in number.
  const auto again = reg.import_csv(csv);
  CHECK(again == ids);
  CHECK(reg.list().size() == 2);
}

TEST_CASE("a second registry over the same store sees the keys", "[usage]") {
  auto store = gatehouse::make_memory_store();
  plans p;
  UsagePlan gold({.name = "gold", .id = "gold"});
  p.add(gold);
  std::string id_a, id_b;
  {
    key_registry first(store, p.finder());
    id_a = first.create(spec("a", value_a, {"gold"})).id;
    id_b = first.create(spec("b", value_b)).id;
    first.enable(id_b, false);
    const auto gone = first.create(spec("gone", value_c)).id;
    first.remove(gone);
  }
  key_registry second(store, p.finder());
  CHECK(ids_of(second.list()) == std::set<std::string>{id_a, id_b});
  auto a = second.find(value_a);
  REQUIRE(a);
  CHECK(a->id == id_a);
  CHECK(a->name == "a");
  CHECK(a->in_plan("gold"));
  auto b = second.find(value_b);
  REQUIRE(b);
  CHECK_FALSE(b->enabled);
  CHECK(second.find(value_c) == nullptr);
  // created is kept to the second.
  const auto created = second.get(id_a)->created;
  CHECK(std::chrono::system_clock::now() - created < std::chrono::minutes{1});
  // The second registry refuses a value the first made.
  CHECK(error_of([&] { second.create(spec("dup", value_a)); }).find("another key") !=
        std::string::npos);
}

TEST_CASE("usage(): requests and remaining quota per key and day", "[usage]") {
  auto store = gatehouse::make_memory_store();
  plans p;
  UsagePlan weekly({.name = "weekly",
                    .id = "weekly",
                    .quota = quota_settings{.limit = 10, .period = quota_period::week}});
  UsagePlan open({.name = "open", .id = "open"});
  p.add(weekly);
  p.add(open);
  key_registry reg(store, p.finder());
  const auto k1 = reg.create(spec("k1", value_a, {"weekly", "open"}));
  const auto k2 = reg.create(spec("k2", value_b, {"weekly"}));
  const auto outside = reg.create(spec("outside", value_c));

  // The week of Monday 2026-11-09 (well before the plan was made: no offset).
  const auto d = [](unsigned day) { return year{2026} / 11 / day; };
  count_requests(*store, weekly, k1.id, d(15), 5);  // Sunday of the week before
  count_requests(*store, weekly, k1.id, d(16), 3);  // Monday
  count_requests(*store, weekly, k1.id, d(18), 4);  // Wednesday
  count_requests(*store, weekly, k1.id, d(22), 2);  // Sunday
  count_requests(*store, weekly, k2.id, d(17), 10);
  count_requests(*store, open, k1.id, d(16), 6);
  count_requests(*store, weekly, outside.id, d(16), 1);  // not in the plan: not reported

  const auto report =
      reg.usage(*gatehouse::detail::access::state(weekly), d(16), d(22), std::nullopt);
  CHECK(report.usage_plan_id == "weekly");
  REQUIRE(report.items.size() == 2);
  REQUIRE(report.items.count(k1.id) == 1);
  REQUIRE(report.items.count(k2.id) == 1);
  const auto& u1 = report.items.at(k1.id);
  REQUIRE(u1.size() == 7);
  const std::int64_t used1[] = {3, 0, 4, 0, 0, 0, 2};
  const std::int64_t left1[] = {7, 7, 3, 3, 3, 3, 1};
  for (int i = 0; i < 7; ++i) {
    INFO("k1 day " << i);
    CHECK(u1[i].used == used1[i]);
    REQUIRE(u1[i].remaining.has_value());
    CHECK(*u1[i].remaining == left1[i]);
  }
  const auto& u2 = report.items.at(k2.id);
  REQUIRE(u2.size() == 7);
  CHECK(u2[0].used == 0);
  CHECK(*u2[0].remaining == 10);
  CHECK(u2[1].used == 10);
  CHECK(*u2[1].remaining == 0);
  CHECK(*u2[6].remaining == 0);

  SECTION("to_json") {
    // Keys in id order.
    std::map<std::string, std::string> values{
        {k1.id, "[[3,7],[0,7],[4,3],[0,3],[0,3],[0,3],[2,1]]"},
        {k2.id, "[[0,10],[10,0],[0,0],[0,0],[0,0],[0,0],[0,0]]"}};
    std::string expected =
        R"({"usagePlanId":"weekly","startDate":"2026-11-16","endDate":"2026-11-22","values":{)";
    for (const auto& [id, days] : values) {
      if (expected.back() != '{') expected += ",";
      expected += "\"" + id + "\":" + days;
    }
    expected += "}}";
    CHECK(report.to_json() == expected);
  }
  SECTION("a range starting mid-week counts the week from its Monday") {
    const auto mid =
        reg.usage(*gatehouse::detail::access::state(weekly), d(18), d(19), std::string_view(k1.id));
    REQUIRE(mid.items.size() == 1);
    const auto& u = mid.items.at(k1.id);
    REQUIRE(u.size() == 2);
    CHECK(u[0].used == 4);
    CHECK(*u[0].remaining == 3);
    CHECK(u[1].used == 0);
    CHECK(*u[1].remaining == 3);
    CHECK(mid.to_json() == R"({"usagePlanId":"weekly","startDate":"2026-11-18","endDate":)"
                           R"("2026-11-19","values":{")" +
                               k1.id + R"(":[[4,3],[0,3]]}})");
  }
  SECTION("a range across a week boundary starts afresh on Monday") {
    const auto across =
        reg.usage(*gatehouse::detail::access::state(weekly), d(15), d(16), std::string_view(k1.id));
    const auto& u = across.items.at(k1.id);
    REQUIRE(u.size() == 2);
    CHECK(u[0].used == 5);
    CHECK(*u[0].remaining == 5);
    CHECK(u[1].used == 3);
    CHECK(*u[1].remaining == 7);
  }
  SECTION("a plan without a quota: remaining is null") {
    const auto r = reg.usage(*gatehouse::detail::access::state(open), d(16), d(17), std::nullopt);
    REQUIRE(r.items.size() == 1);
    const auto& u = r.items.at(k1.id);
    REQUIRE(u.size() == 2);
    CHECK(u[0].used == 6);
    CHECK_FALSE(u[0].remaining.has_value());
    CHECK(r.to_json() == R"({"usagePlanId":"open","startDate":"2026-11-16","endDate":)"
                         R"("2026-11-17","values":{")" +
                             k1.id + R"(":[[6,null],[0,null]]}})");
  }
  SECTION("one key only") {
    const auto r =
        reg.usage(*gatehouse::detail::access::state(weekly), d(16), d(16), std::string_view(k2.id));
    REQUIRE(r.items.size() == 1);
    CHECK(r.items.count(k2.id) == 1);
    const auto none = reg.usage(*gatehouse::detail::access::state(weekly), d(16), d(16),
                                std::string_view("nosuchkey"));
    CHECK(none.items.empty());
    CHECK(none.to_json() == R"({"usagePlanId":"weekly","startDate":"2026-11-16","endDate":)"
                            R"("2026-11-16","values":{}})");
  }
  SECTION("bad ranges") {
    CHECK(error_of([&] {
            reg.usage(*gatehouse::detail::access::state(weekly), d(17), d(16), std::nullopt);
          }).find("start date") != std::string::npos);
    CHECK(error_of([&] {
            reg.usage(*gatehouse::detail::access::state(weekly), year{2025} / 1 / 1,
                      year{2026} / 1 / 3, std::nullopt);
          }).find("366") != std::string::npos);
    CHECK_NOTHROW(reg.usage(*gatehouse::detail::access::state(weekly), year{2025} / 1 / 1,
                            year{2026} / 1 / 1, std::nullopt));
  }
}

TEST_CASE("usage(): the offset shortens the period the plan was made in", "[usage]") {
  auto store = gatehouse::make_memory_store();
  plans p;
  // Made now: today's quota is 10 - 4.
  UsagePlan daily({.name = "daily",
                   .id = "daily",
                   .quota = quota_settings{.limit = 10, .period = quota_period::day, .offset = 4}});
  p.add(daily);
  key_registry reg(store, p.finder());
  const auto k = reg.create(spec("k", value_a, {"daily"}));

  const auto today = std::chrono::floor<std::chrono::days>(daily.created());
  const year_month_day yesterday{today - std::chrono::days{1}};
  const year_month_day tomorrow{today + std::chrono::days{1}};
  count_requests(*store, daily, k.id, yesterday, 1);
  count_requests(*store, daily, k.id, year_month_day{today}, 2);
  count_requests(*store, daily, k.id, tomorrow, 3);

  const auto r =
      reg.usage(*gatehouse::detail::access::state(daily), yesterday, tomorrow, std::nullopt);
  const auto& u = r.items.at(k.id);
  REQUIRE(u.size() == 3);
  CHECK(u[0].used == 1);
  CHECK(*u[0].remaining == 9);
  CHECK(u[1].used == 2);
  CHECK(*u[1].remaining == 4);  // 10 - 4 - 2
  CHECK(u[2].used == 3);
  CHECK(*u[2].remaining == 7);

  // Used beyond the shortened limit: remaining stays at 0.
  count_requests(*store, daily, k.id, year_month_day{today}, 8);
  const auto over = reg.usage(*gatehouse::detail::access::state(daily), year_month_day{today},
                              year_month_day{today}, std::nullopt);
  CHECK(over.items.at(k.id)[0].used == 10);
  CHECK(*over.items.at(k.id)[0].remaining == 0);
}
