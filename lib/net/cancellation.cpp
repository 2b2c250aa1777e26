#include "net/cancellation.hpp"

#include <asio/error.hpp>
#include <asio/post.hpp>

namespace gatehouse::detail {

void cancel_forward::operator()(asio::cancellation_type type) const noexcept {
  if (auto op = op_.lock()) op->request(type);
}

void cancellable::request(asio::cancellation_type type) noexcept {
  if ((type & (asio::cancellation_type::terminal | asio::cancellation_type::partial)) ==
      asio::cancellation_type::none)
    return;
  try {
    asio::post(strand_, [self = shared_from_this()] { self->cancel_now(); });
  } catch (...) {  // out of memory: the operation runs to its end instead
  }
}

void cancellable::cancel_now() {
  if (completed_) return;  // completed before the cancellation reached the strand
  completed_ = true;
  cancelled_ = true;
  stop();
  done(asio::error::operation_aborted, response{});
}

}  // namespace gatehouse::detail
