#include "store/redis/admission_batcher.hpp"

#include "store/redis/store_scripts.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>

#include <algorithm>

namespace gatehouse::redis {

admission_batcher::admission_batcher(asio::any_io_executor executor, std::shared_ptr<client> c,
                                     std::string prefix, std::size_t max_in_flight,
                                     std::size_t max_batch, std::chrono::milliseconds timeout)
    : executor_(std::move(executor)),
      client_(std::move(c)),
      prefix_(std::move(prefix)),
      max_in_flight_(std::max<std::size_t>(1, max_in_flight)),
      max_batch_(std::max<std::size_t>(1, max_batch)),
      timeout_(timeout) {}

void admission_batcher::admit(const admission& a, done_fn done) {
  std::vector<waiter> batch;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({&a, std::move(done), clock::now()});
    batch = take_locked();
  }
  if (!batch.empty()) start(std::move(batch));
}

std::vector<admission_batcher::waiter> admission_batcher::take_locked() {
  std::vector<waiter> batch;
  if (queue_.empty() || in_flight_ >= max_in_flight_) return batch;
  ++in_flight_;
  const std::size_t n = std::min(queue_.size(), max_batch_);
  batch.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return batch;
}

void admission_batcher::start(std::vector<waiter> batch) {
  asio::co_spawn(executor_, run(shared_from_this(), std::move(batch)), asio::detached);
}

asio::awaitable<void> admission_batcher::run(std::shared_ptr<admission_batcher> self,
                                             std::vector<waiter> batch) {
  for (;;) {
    // The call has what is left of its oldest request's time (it may have waited for the call
    // before): no request waits longer than the timeout in all.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(batch.front().since +
                                                                   self->timeout_ - clock::now());
    std::vector<admission_result> results(batch.size());
    std::error_code ec = errc::timed_out;
    if (left > std::chrono::milliseconds::zero()) {
      admission_batch call;
      for (const auto& w : batch) call.add(self->prefix_, *w.a);
      call.finish();
      self->calls_.fetch_add(1, std::memory_order_relaxed);
      self->requests_.fetch_add(batch.size(), std::memory_order_relaxed);
      auto r = co_await self->client_->eval(admission_script(), call.keys(), call.args(), left);
      ec = r.error;
      if (!ec && !read_admission_replies(r.reply, call.group_sizes(), results))
        ec = errc::protocol_error;
    }
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(ec, results[i]);
    // What queued meanwhile goes next, in this call's place.
    {
      std::lock_guard lock(self->mutex_);
      --self->in_flight_;
      batch = self->take_locked();
    }
    if (batch.empty()) co_return;
  }
}

std::uint64_t admission_batcher::calls() const noexcept {
  return calls_.load(std::memory_order_relaxed);
}
std::uint64_t admission_batcher::requests() const noexcept {
  return requests_.load(std::memory_order_relaxed);
}

}  // namespace gatehouse::redis
