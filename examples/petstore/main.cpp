// petstore: AWS's PetStore sample API served by gatehouse under the stage "prod".
//
//   petstore [--listen ADDR:PORT] [--cert FILE --key FILE] [--http] [--threads N]
//            [--backend HOST:PORT]
//
// ANY /prod/legacy/{proxy+} is proxied to http://BACKEND/{proxy} (default 127.0.0.1:8080).

#include "pets.hpp"

#include <gatehouse/gatehouse.hpp>

#include <asio/signal_set.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {
struct args {
  std::string listen = "127.0.0.1:8443";
  std::string cert, key;
  bool http = false;
  int threads = 1;
  std::string backend = "127.0.0.1:8080";
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "petstore: %s\nusage: petstore [--listen ADDR:PORT] [--cert FILE --key FILE] "
               "[--http] [--threads N] [--backend HOST:PORT]\n",
               why);
  std::exit(2);
}

args parse(int argc, char** argv) {
  args a;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage("a flag is missing its value");
      return argv[++i];
    };
    if (arg == "--listen")
      a.listen = value();
    else if (arg == "--cert")
      a.cert = value();
    else if (arg == "--key")
      a.key = value();
    else if (arg == "--http")
      a.http = true;
    else if (arg == "--backend")
      a.backend = value();
    else if (arg == "--threads")
      a.threads = std::atoi(value().c_str());
    else if (arg == "--help" || arg == "-h")
      usage("AWS's PetStore sample API on gatehouse");
    else
      usage(("unknown flag " + std::string(arg)).c_str());
  }
  if (a.cert.empty() != a.key.empty()) usage("--cert and --key go together");
  if (a.threads < 1) usage("--threads must be at least 1");
  return a;
}
}  // namespace

int main(int argc, char** argv) {
  args a = parse(argc, argv);
  try {
    asio::io_context io{a.threads};  // the concurrency hint: 1 lets gatehouse skip strands
    gatehouse::Router api = petstore::make_api();
    gatehouse::Stage prod{"prod", api.deploy()};
    prod.variable("backend", a.backend);

    gatehouse::Gateway gw{io};
    gw.mount(prod);
    asio::ip::tcp::endpoint at;
    if (a.http)
      at = gw.listen(a.listen, gatehouse::plain_http);
    else if (!a.cert.empty())
      at = gw.listen(a.listen, gatehouse::tls::from_files(a.cert, a.key));
    else
      at = gw.listen(a.listen, gatehouse::tls::self_signed());

    std::string host =
        at.address().is_v6() ? "[" + at.address().to_string() + "]" : at.address().to_string();
    std::printf("petstore: serving %s://%s:%u/prod/pets\n", a.http ? "http" : "https", host.c_str(),
                at.port());
    std::printf("petstore: %s://%s:%u/prod/legacy/… proxies to http://%s/…\n",
                a.http ? "http" : "https", host.c_str(), at.port(), a.backend.c_str());
    std::fflush(stdout);

    // The host owns the signals: on SIGINT/SIGTERM, drain for up to 5 s, then stop.
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](std::error_code ec, int) {
      if (ec) return;
      std::printf("petstore: stopping\n");
      std::fflush(stdout);
      gw.async_stop(std::chrono::seconds(5), [&] { io.stop(); });
    });

    std::vector<std::thread> threads;
    for (int i = 1; i < a.threads; ++i) threads.emplace_back([&] { io.run(); });
    io.run();
    for (auto& t : threads) t.join();
    std::printf("petstore: stopped\n");
    return 0;
  } catch (const gatehouse::config_error& e) {
    std::fprintf(stderr, "petstore: %s\n", e.what());
    return 1;
  }
}
