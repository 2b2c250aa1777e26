// chat: the chat room of AWS's WebSocket API tutorial, served by gatehouse on stage
// "production".
//
//   chat [--listen ADDR:PORT] [--http] [--cert FILE --key FILE]
//
// Clients connect to wss://ADDR:PORT/production (ws:// with --http), optionally with ?name=NAME.
// A client that sends {"action":"sendmessage","message":"hello"} makes every connected client
// receive the text "hello"; any other message gets a hint back ($default, a two-way route).
// The @connections endpoint is served on the same port:
//   POST|GET|DELETE /production/@connections/{connectionId}

#include <gatehouse/gatehouse.hpp>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>

#include <rapidjson/document.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace {
struct args {
  std::string listen = "127.0.0.1:8444";
  std::string cert, key;
  bool http = false;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "chat: %s\nusage: chat [--listen ADDR:PORT] [--http] [--cert FILE --key FILE]\n",
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
    else if (arg == "--help" || arg == "-h")
      usage("the chat room of AWS's WebSocket tutorial on gatehouse");
    else
      usage(("unknown flag " + std::string(arg)).c_str());
  }
  if (a.cert.empty() != a.key.empty()) usage("--cert and --key go together");
  return a;
}

/// The room: who is connected, by connection id, with the name they gave.
class room {
 public:
  void join(std::string id, std::string name) {
    std::lock_guard lock(mutex_);
    names_[std::move(id)] = std::move(name);
  }
  void leave(const std::string& id) {
    std::lock_guard lock(mutex_);
    names_.erase(id);
  }
  std::string name(const std::string& id) const {
    std::lock_guard lock(mutex_);
    auto it = names_.find(id);
    return it == names_.end() ? std::string() : it->second;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::string> names_;
};
}  // namespace

int main(int argc, char** argv) {
  const args a = parse(argc, argv);
  try {
    asio::io_context io{1};
    room people;

    gatehouse::WebSocketApi api({.name = "chat"});
    api.route("$connect", [&](const gatehouse::websocket_event& ev) {
      // The name is client text ("?name=%FF" decodes to a byte that is no UTF-8): kept as UTF-8,
      // so that it can go into JSON and text messages.
      people.join(std::string(ev.connection_id),
                  gatehouse::as_valid_utf8(ev.query("name").value_or("")));
      return gatehouse::proxy_result{};
    });
    api.route("$disconnect", [&](const gatehouse::websocket_event& ev) {
      people.leave(std::string(ev.connection_id));
      return gatehouse::proxy_result{};
    });
    // sendmessage: the message goes to everyone connected, through the connection manager.
    api.route("sendmessage", [&](const gatehouse::websocket_event& ev) {
      rapidjson::Document doc;
      doc.Parse<rapidjson::kParseIterativeFlag>(ev.body.data(), ev.body.size());  // no recursion
      if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("message") ||
          !doc["message"].IsString())
        return gatehouse::proxy_result{.status_code = 400};
      // (RapidJSON turns an escaped lone surrogate, "\udc00", into bytes that are no UTF-8.)
      std::string message = gatehouse::as_valid_utf8(
          std::string_view(doc["message"].GetString(), doc["message"].GetStringLength()));
      auto connections = ev.connections();
      for (const auto& id : connections.ids()) connections.post(id, message);
      return gatehouse::proxy_result{};
    });
    api.route("$default",
              [&](const gatehouse::websocket_event& ev) {
                std::string name = people.name(std::string(ev.connection_id));
                gatehouse::proxy_result r;
                r.body =
                    "Use the sendmessage route to send a message. Your info: "
                    "{\"connectionId\":" +
                    gatehouse::json_string(ev.connection_id) +
                    ",\"name\":" + gatehouse::json_string(name) + "}";
                return r;
              },
              {.two_way = true});
    gatehouse::WebSocketStage production("production", api);

    gatehouse::Gateway gw(io);
    gw.mount(production);
    asio::ip::tcp::endpoint at;
    if (a.http)
      at = gw.listen(a.listen, gatehouse::plain_http);
    else if (!a.cert.empty())
      at = gw.listen(a.listen, gatehouse::tls::from_files(a.cert, a.key));
    else
      at = gw.listen(a.listen, gatehouse::tls::self_signed());

    std::string host =
        at.address().is_v6() ? "[" + at.address().to_string() + "]" : at.address().to_string();
    std::printf("chat: serving %s://%s:%u/production\n", a.http ? "ws" : "wss", host.c_str(),
                at.port());
    std::printf("chat: @connections at %s://%s:%u/production/@connections/{connectionId}\n",
                a.http ? "http" : "https", host.c_str(), at.port());
    std::fflush(stdout);

    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](std::error_code ec, int) {
      if (ec) return;
      std::printf("chat: stopping\n");
      std::fflush(stdout);
      gw.async_stop(std::chrono::seconds(1), [&] { io.stop(); });
    });
    io.run();
    std::printf("chat: stopped\n");
    return 0;
  } catch (const gatehouse::config_error& e) {
    std::fprintf(stderr, "chat: %s\n", e.what());
    return 1;
  }
}
