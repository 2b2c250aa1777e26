// The API of bench/serve/api.json composed in C++, served as gatehouse-serve serves the document
// (the same listener code, gateway options and stage): bench/load.sh compares the two, so that
// what an imported API costs per request beyond the same API written in code shows.
//
//   bench_composed --backend HOST:PORT [--limits aws|off] [--listen ADDR:PORT] [--http] …

#include "server.hpp"

#include <gatehouse/gatehouse.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {
[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "bench_composed: %s\nusage: bench_composed --backend HOST:PORT [--limits aws|off] "
               "%s\n",
               why, examples::listener_flags::usage);
  std::exit(2);
}
}  // namespace

int main(int argc, char** argv) {
  examples::listener_flags server{.listen = "127.0.0.1:8443"};
  std::string backend, limits = "aws";
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage("a flag is missing its value");
      return argv[++i];
    };
    if (server.take(arg, value)) continue;
    if (arg == "--backend")
      backend = value();
    else if (arg == "--limits")
      limits = value();
    else
      usage(("unknown flag " + std::string(arg)).c_str());
  }
  if (backend.empty()) usage("--backend HOST:PORT is required");
  if (auto bad = server.check(); !bad.empty()) usage(bad.c_str());
  try {
    // What the document says, in C++: the same integrations, with the same requestParameters
    // (what AWS's exports write for a path parameter).
    auto path = [](const char* name) {
      return gatehouse::http_options{
          .request_parameters = {{std::string("integration.request.path.") + name,
                                  std::string("method.request.path.") + name}}};
    };
    gatehouse::Router api;
    api.route("GET", "/pets", gatehouse::http_proxy("http://${stageVariables.backend}/pets"));
    api.route(
        "GET", "/pets/{petId}",
        gatehouse::http_proxy("http://${stageVariables.backend}/pets/{petId}", path("petId")));
    api.route("ANY", "/legacy/{proxy+}",
              gatehouse::http_proxy("http://${stageVariables.backend}/{proxy}", path("proxy")));

    // From here on as gatehouse-serve does it.
    asio::io_context io{server.concurrency_hint()};
    gatehouse::gateway_options options;
    if (limits == "off") options.throttle.reset();
    gatehouse::Stage stage{"prod", api.deploy()};
    stage.variable("backend", backend);
    gatehouse::Gateway gw{io, options};
    gw.mount(stage);
    const std::string url = examples::base_url(server, examples::listen(gw, server));
    std::printf("bench_composed: serving %s/prod\n", url.c_str());
    std::fflush(stdout);
    examples::run_until_signalled(io, gw, server.threads, "bench_composed");
    return 0;
  } catch (const gatehouse::config_error& e) {
    std::fprintf(stderr, "bench_composed: %s\n", e.what());
    return 1;
  }
}
