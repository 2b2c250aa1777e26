// A host of a generated C++ SDK: petstore's client (petstore --sdk cpp), built against the
// installed gatehouse, calls a running petstore with a callback, asio::use_future and a
// coroutine. tricky_sdk.hpp (tricky.json: keywords, clashing and odd names) is only compiled.
//   consumer INVOKE_URL API_KEY ACCESS_KEY_ID SECRET_ACCESS_KEY
// Exits 1 when a check fails; each check prints a line. Pooled keep-alive connections keep an
// io_context busy until they idle out: each part closes them (close_idle) when it is done.
#include "pet_store_sdk.hpp"
#include "tricky_sdk.hpp"

#include <rapidjson/document.h>
#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <cstddef>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

namespace {

int failures = 0;

void check(bool ok, std::string_view what, const gatehouse::response& r) {
  if (!ok) ++failures;
  std::cout << (ok ? "ok:     " : "FAILED: ") << what << " -> " << r.status << ' ' << r.body
            << std::endl;
}

// Every method of the tricky API, instantiated with each kind of body (never called).
[[maybe_unused]] void compile_tricky(tricky_sdk::client& c, rapidjson::Document& json) {
  auto done = [](std::error_code, gatehouse::response) {};
  tricky_sdk::things_class_get_params get;
  get.class_ = "a";
  get.namespace_ = "b";
  get.x_trace = "c";
  get.headers_ = "d";
  get.query_ = "e";
  get._2nd = "f";
  get.x_trace_header = "g";
  get.x_request_id = "h";
  c.things_class_get(get, done);
  c.things_class_post({.class_ = "a"}, json, done);
  c.things_class_post({.class_ = "a"}, "{}", done);
  c.files_key_get({.key = "a/b"}, done);
  c.files_key_put({.key = "a/b"}, std::string("text"), done);
  c.files_key_patch({.key = "a/b"}, json, done);
  c.files_key_head({}, done);
  c.htmlpage_get({}, done);
  c.htmlpage_get_2({}, done);
  c._2fa_v1_2_x_delete({}, done);
  c.request("GET", "/", "", {}, {}, done);
}

// POST /pets with and without the API key, a page through additionalParams, a wrong signature.
asio::awaitable<void> coroutine_calls(gatehouse::http_client& http, pet_store_sdk::client& keyed,
                                      pet_store_sdk::client& anonymous,
                                      pet_store_sdk::client& wrong_secret) {
  rapidjson::Document fish;
  fish.Parse(R"({"type":"fish","price":25.5})");
  auto created = co_await keyed.pets_post({}, fish, asio::use_awaitable);
  check(created.status == 201 && created.body.find("\"fish\"") != std::string::npos,
        "coroutine: pets_post with the API key (a rapidjson::Value) is 201", created);

  auto refused =
      co_await anonymous.pets_post({}, R"({"type":"dog","price":30})", asio::use_awaitable);
  check(refused.status == 403 && refused.body == R"({"message":"Forbidden"})",
        "coroutine: pets_post without the API key is 403 Forbidden", refused);

  // additionalParams.queryParams: "page" given there replaces the modelled one.
  pet_store_sdk::pets_get_params page2{.type = "cat", .page = "1", .query = {{"page", "2"}}};
  auto empty = co_await anonymous.pets_get(page2, asio::use_awaitable);
  check(empty.status == 200 && empty.body == "[]", "coroutine: pets_get page 2 (query) is []",
        empty);

  auto bad = co_await wrong_secret.admin_stats_get({}, asio::use_awaitable);
  check(bad.status == 403 &&
            bad.body.find("signature we calculated does not match") != std::string::npos,
        "coroutine: admin_stats_get with a wrong secret is 403", bad);
  http.close_idle();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: consumer INVOKE_URL API_KEY ACCESS_KEY_ID SECRET_ACCESS_KEY\n";
    return 2;
  }
  asio::io_context io;
  gatehouse::http_client http{io.get_executor()};

  pet_store_sdk::config anonymous_config;
  anonymous_config.invoke_url = argv[1];
  pet_store_sdk::config keyed_config = anonymous_config;
  keyed_config.api_key = argv[2];
  pet_store_sdk::config signed_config = anonymous_config;
  signed_config.credentials = {argv[3], argv[4], ""};
  pet_store_sdk::config wrong_config = signed_config;
  wrong_config.credentials.secret_access_key += "x";
  pet_store_sdk::client anonymous{http, anonymous_config}, keyed{http, keyed_config},
      signer{http, signed_config}, wrong_secret{http, wrong_config};

  // A callback.
  bool called = false;
  anonymous.pets_get({.type = "cat", .page = "1"}, [&](std::error_code ec, gatehouse::response r) {
    called = true;
    rapidjson::Document list;
    list.Parse(r.body.c_str());
    bool cats = !ec && r.headers.get("content-type").value_or("").starts_with("application/json") &&
                list.IsArray() && !list.Empty();
    for (std::size_t i = 0; cats && i < list.Size(); ++i)
      cats = list[i].IsObject() && list[i].HasMember("type") && list[i]["type"] == "cat";
    check(r.status == 200 && cats,
          "callback: pets_get type cat, page 1 is 200, a JSON list of cats", r);
    http.close_idle();
  });
  io.run();
  if (!called) check(false, "callback: pets_get completed", {});

  // A coroutine; an error (no response) ends it with an exception.
  io.restart();
  asio::co_spawn(io, coroutine_calls(http, keyed, anonymous, wrong_secret),
                 [](std::exception_ptr e) {
                   if (!e) return;
                   try {
                     std::rethrow_exception(e);
                   } catch (const std::exception& x) {
                     check(false, std::string("coroutine: ") + x.what(), {});
                   }
                 });
  io.run();

  // Futures, with the io_context running on a thread of its own.
  io.restart();
  auto work = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  try {
    auto missing = anonymous.pets_pet_id_get({.pet_id = "999"}, asio::use_future).get();
    check(missing.status == 404, "future: pets_pet_id_get 999 is 404", missing);
    auto stats = signer.admin_stats_get({}, asio::use_future).get();
    check(stats.status == 200 && stats.body.find("petstore-admin") != std::string::npos,
          "future: admin_stats_get signed with SigV4 is 200", stats);
  } catch (const std::exception& x) {
    check(false, std::string("future: ") + x.what(), {});
  }
  http.close_idle();
  work.reset();
  runner.join();

  std::cout << (failures ? "consumer: FAILED\n" : "consumer: all checks passed\n");
  return failures ? 1 : 0;
}
