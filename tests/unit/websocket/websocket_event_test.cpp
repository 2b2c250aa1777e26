// websocket_event::connections(): only the gateway's events reach a stage (the chat example's
// broadcast, tests/integration/examples/chat_test.cpp, goes through it).

#include <gatehouse/config_error.hpp>
#include <gatehouse/websocket_api.hpp>

#include <catch2/catch.hpp>

TEST_CASE("websocket_event: connections() of an event the gateway did not make is refused",
          "[websocket-api]") {
  gatehouse::websocket_event ev;
  ev.connection_id = "AAAAAAAAAAAAAAAA";
  CHECK_THROWS_WITH(ev.connections(), Catch::Contains("not one of a mounted stage"));
}
