#include "observe/access_log_writer.hpp"

#include <gatehouse/config_error.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

namespace gatehouse::observe {

namespace {
std::atomic<std::uint64_t> all_dropped{0};
std::atomic<std::uint64_t> next_serial{1};

// The writer wakes this often to take what the buffers hold, and sooner when one is a quarter
// full or a flush is asked for.
constexpr auto writer_period = std::chrono::milliseconds(50);

// One answering thread's lines for one writer: a single-producer, single-consumer byte ring of
// lines, each ending in '\n'. Shared by the thread (which drops it when it ends) and the writer.
struct ring {
  explicit ring(std::size_t bytes) : capacity(bytes), data(new char[bytes]) {}
  const std::size_t capacity;
  std::unique_ptr<char[]> data;
  alignas(64) std::atomic<std::uint64_t> head{0};  // bytes ever put, by the thread
  alignas(64) std::atomic<std::uint64_t> tail{0};  // bytes ever taken, by the writer
  std::atomic<bool> thread_gone{false};
  std::atomic<bool> writer_gone{false};
  std::uint64_t cut = 0;  // under the writer's mutex: where the last reopen() found the head

  void put(std::uint64_t at, const char* p, std::size_t n) noexcept {
    const std::size_t from = at % capacity, first = std::min(n, capacity - from);
    std::memcpy(data.get() + from, p, first);
    std::memcpy(data.get(), p + first, n - first);
  }
  void take(std::uint64_t at, std::size_t n, std::string& out) const {
    const std::size_t from = at % capacity, first = std::min(n, capacity - from);
    out.append(data.get() + from, first);
    out.append(data.get(), n - first);
  }
};

// The rings of the calling thread, by writer.
struct thread_rings {
  struct entry {
    std::uint64_t writer;
    std::shared_ptr<ring> lines;
  };
  std::vector<entry> entries;
  ~thread_rings() {
    for (auto& e : entries) e.lines->thread_gone.store(true, std::memory_order_release);
  }
};
thread_local thread_rings local_rings;

bool write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t k = ::write(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}

int open_append(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}
}  // namespace

struct log_writer::core {
  const std::uint64_t serial = next_serial.fetch_add(1, std::memory_order_relaxed);
  access_log_options options;
  std::string path;
  int fd = -1;  // the writer's
  std::function<void(std::string_view)> sink;
  std::atomic<std::uint64_t> written{0}, dropped{0};
  std::atomic<bool> kicked{false};  // a buffer passed a quarter full

  std::mutex mutex;
  std::condition_variable wake, done;
  // Guarded by mutex:
  std::vector<std::shared_ptr<ring>> rings;
  int next_fd = -1;  // reopen()'s, taken by the writer before its next batch
  std::uint64_t flushes_asked = 0, flushes_done = 0;
  bool stopping = false, stopped = false;

  ~core() {
    if (fd >= 0) ::close(fd);
    if (next_fd >= 0) ::close(next_fd);
  }

  void count_dropped(std::uint64_t n) noexcept {
    dropped.fetch_add(n, std::memory_order_relaxed);
    all_dropped.fetch_add(n, std::memory_order_relaxed);
  }

  ring* ring_of_this_thread() {
    for (auto& e : local_rings.entries)
      if (e.writer == serial) return e.lines.get();
    // This thread's first line for this writer: forget the rings of writers gone.
    std::erase_if(local_rings.entries, [](const auto& e) {
      return e.lines->writer_gone.load(std::memory_order_acquire);
    });
    auto r = std::make_shared<ring>(options.buffer_bytes);
    {
      std::lock_guard lock(mutex);
      rings.push_back(r);
    }
    local_rings.entries.push_back({serial, r});
    return r.get();
  }

  void deliver(const std::string& batch) {
    const auto lines = static_cast<std::uint64_t>(std::count(batch.begin(), batch.end(), '\n'));
    if (!sink) {
      if (write_all(fd, batch.data(), batch.size()))
        written.fetch_add(lines, std::memory_order_relaxed);
      else
        count_dropped(lines);  // a full disk, a file gone bad: counted, as an overflow is
      return;
    }
    std::string_view rest = batch;
    while (!rest.empty()) {
      const auto end = rest.find('\n');
      try {
        sink(rest.substr(0, end));
      } catch (...) {  // the host's exception stays in the host's callback
      }
      written.fetch_add(1, std::memory_order_relaxed);
      rest.remove_prefix(end + 1);
    }
  }

  // The writer's thread: takes the buffers' lines in batches until stopped, then the rest.
  // The writer's thread: takes the buffers' lines in batches until stopped, then the rest. Each
  // batch ends at the buffers' heads as they were under the mutex, so that a reopen() (under the
  // mutex too) splits the lines exactly: those queued before it go to the old file, the later
  // ones to the new.
  void run() {
    std::string batch, rotated;
    std::vector<std::shared_ptr<ring>> mine;
    std::vector<std::uint64_t> limits, cuts;
    for (;;) {
      std::uint64_t asked;
      bool stop;
      int new_fd = -1;
      {
        std::unique_lock lock(mutex);
        wake.wait_for(lock, writer_period, [&] {
          return stopping || flushes_asked != flushes_done || next_fd >= 0 ||
                 kicked.load(std::memory_order_relaxed);
        });
        kicked.store(false, std::memory_order_relaxed);
        asked = flushes_asked;
        stop = stopping;
        mine = rings;
        limits.clear();
        cuts.clear();
        for (const auto& r : mine) {
          limits.push_back(r->head.load(std::memory_order_acquire));
          cuts.push_back(r->cut);
        }
        new_fd = std::exchange(next_fd, -1);
      }
      batch.clear();
      rotated.clear();
      for (std::size_t i = 0; i < mine.size(); ++i) {
        ring& r = *mine[i];
        const auto tail = r.tail.load(std::memory_order_relaxed), limit = limits[i];
        if (tail == limit) continue;
        const auto cut = new_fd < 0 ? limit : std::clamp(cuts[i], tail, limit);
        r.take(tail, static_cast<std::size_t>(cut - tail), batch);
        r.take(cut, static_cast<std::size_t>(limit - cut), rotated);
        r.tail.store(limit, std::memory_order_release);
      }
      if (!batch.empty()) deliver(batch);
      if (new_fd >= 0) {  // rotated: from here on, the file at the path now
        if (fd >= 0) ::close(fd);
        fd = new_fd;
        if (!rotated.empty()) deliver(rotated);
      }
      std::lock_guard lock(mutex);
      // The rings of threads that ended, once empty, go.
      std::erase_if(rings, [](const auto& r) {
        return r->thread_gone.load(std::memory_order_acquire) &&
               r->head.load(std::memory_order_acquire) == r->tail.load(std::memory_order_relaxed);
      });
      flushes_done = asked;
      if (stop) stopped = true;  // no line can come any more: its last owner is gone
      done.notify_all();
      if (stop) return;
    }
  }
};

log_writer::log_writer(std::string path, const access_log_options& options)
    : core_(std::make_shared<core>()) {
  core_->options = options;
  core_->path = std::move(path);
  core_->fd = open_append(core_->path);
  if (core_->fd < 0)
    throw config_error(fmt::format("access log file '{}': cannot be opened for appending: {}",
                                   core_->path, std::strerror(errno)));
  start();
}

log_writer::log_writer(std::function<void(std::string_view)> sink,
                       const access_log_options& options)
    : core_(std::make_shared<core>()) {
  if (!sink) throw config_error("access log callback: empty");
  core_->options = options;
  core_->sink = std::move(sink);
  start();
}

void log_writer::start() {
  if (core_->options.buffer_bytes < 256)
    throw config_error(fmt::format("access log: buffer_bytes {} is too small for a line",
                                   core_->options.buffer_bytes));
  thread_ = std::thread([c = core_] { c->run(); });
}

log_writer::~log_writer() {
  auto& c = *core_;
  std::unique_lock lock(c.mutex);
  c.stopping = true;
  c.wake.notify_one();
  const bool finished = c.done.wait_for(lock, c.options.flush_timeout, [&] { return c.stopped; });
  for (const auto& r : c.rings) r->writer_gone.store(true, std::memory_order_release);
  lock.unlock();
  // A callback that stalls past the timeout keeps its thread (which owns what it uses).
  if (finished)
    thread_.join();
  else
    thread_.detach();
}

bool log_writer::push(std::string_view line) noexcept {
  core& c = *core_;
  ring* r;
  try {
    r = c.ring_of_this_thread();
  } catch (...) {  // no memory for the thread's buffer
    c.count_dropped(1);
    return false;
  }
  const std::size_t n = line.size() + 1;
  const auto head = r->head.load(std::memory_order_relaxed);
  const auto used = head - r->tail.load(std::memory_order_acquire);
  if (used + n > r->capacity) {
    c.count_dropped(1);
    return false;
  }
  r->put(head, line.data(), line.size());
  r->put(head + line.size(), "\n", 1);
  r->head.store(head + n, std::memory_order_release);
  // Past a quarter of the buffer the writer is woken rather than left to its period. A wake
  // lost to the race with its wait costs at most the period.
  const std::size_t quarter = r->capacity / 4;
  if (used < quarter && used + n >= quarter) {
    c.kicked.store(true, std::memory_order_relaxed);
    c.wake.notify_one();
  }
  return true;
}

void log_writer::drop() noexcept { core_->count_dropped(1); }

bool log_writer::reopen() {
  auto& c = *core_;
  if (c.sink) return false;
  const int fd = open_append(c.path);
  if (fd < 0) return false;
  std::lock_guard lock(c.mutex);
  if (c.next_fd >= 0) ::close(c.next_fd);
  c.next_fd = fd;
  // The lines queued so far still go to the old file (rings made later start at 0: all new).
  for (const auto& r : c.rings) r->cut = r->head.load(std::memory_order_acquire);
  c.wake.notify_one();
  return true;
}

bool log_writer::flush() {
  auto& c = *core_;
  std::unique_lock lock(c.mutex);
  const auto ticket = ++c.flushes_asked;
  c.wake.notify_one();
  return c.done.wait_for(lock, c.options.flush_timeout,
                         [&] { return c.flushes_done >= ticket || c.stopped; });
}

std::uint64_t log_writer::lines_written() const noexcept {
  return core_->written.load(std::memory_order_relaxed);
}

std::uint64_t log_writer::lines_dropped() const noexcept {
  return core_->dropped.load(std::memory_order_relaxed);
}

std::uint64_t log_writer::total_lines_dropped() noexcept {
  return all_dropped.load(std::memory_order_relaxed);
}

}  // namespace gatehouse::observe
