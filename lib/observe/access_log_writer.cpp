#include "observe/access_log_writer.hpp"

#include <gatehouse/config_error.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <limits.h>
#include <sys/uio.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string_view>
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
// lines, each ending in '\n'. Shared by the thread (which drops it when it ends) and the writer,
// which writes straight from it.
struct ring {
  explicit ring(std::size_t bytes) : capacity(bytes), data(new char[bytes]) {}
  const std::size_t capacity;
  std::unique_ptr<char[]> data;
  // By the thread: bytes ever put, then lines ever put (so that a writer reading `lines` first
  // and `head` next has the bytes of at least those lines).
  alignas(64) std::atomic<std::uint64_t> head{0};
  std::atomic<std::uint64_t> lines{0};
  alignas(64) std::atomic<std::uint64_t> tail{0};  // bytes ever taken, by the writer
  std::uint64_t counted = 0;                       // lines ever counted as written, by the writer
  std::atomic<bool> thread_gone{false};
  std::atomic<bool> writer_gone{false};
  std::uint64_t cut = 0;  // under the writer's mutex: where the last reopen() found the head

  void put(std::uint64_t at, std::string_view line) noexcept {
    const std::size_t from = at % capacity;
    if (capacity - from > line.size()) {  // the usual case: in one piece
      std::memcpy(data.get() + from, line.data(), line.size());
      data[from + line.size()] = '\n';
      return;
    }
    const std::size_t first = std::min(line.size(), capacity - from);
    std::memcpy(data.get() + from, line.data(), first);
    std::memcpy(data.get(), line.data() + first, line.size() - first);
    data[(at + line.size()) % capacity] = '\n';
  }
  // The bytes [from, to) as one or two spans (where the ring wraps).
  void spans(std::uint64_t from, std::uint64_t to, std::vector<std::string_view>& out) const {
    if (from == to) return;
    const std::size_t at = from % capacity, n = to - from, first = std::min(n, capacity - at);
    out.emplace_back(data.get() + at, first);
    if (n > first) out.emplace_back(data.get(), n - first);
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

// Writes the spans in order (writev, as many as it takes); false on an error.
bool write_spans(int fd, const std::vector<std::string_view>& spans, std::vector<iovec>& iov) {
  iov.clear();
  for (auto s : spans) iov.push_back({const_cast<char*>(s.data()), s.size()});
  std::size_t i = 0;
  while (i < iov.size()) {
    const int n = static_cast<int>(std::min<std::size_t>(iov.size() - i, IOV_MAX));
    ssize_t k = ::writev(fd, iov.data() + i, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    while (k > 0 && i < iov.size()) {
      auto& v = iov[i];
      if (static_cast<std::size_t>(k) >= v.iov_len) {
        k -= static_cast<ssize_t>(v.iov_len);
        ++i;
      } else {
        v.iov_base = static_cast<char*>(v.iov_base) + k;
        v.iov_len -= static_cast<std::size_t>(k);
        k = 0;
      }
    }
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
  std::atomic<bool> kicked{false};     // a buffer passed a quarter full
  std::atomic<bool> abandoned{false};  // its last owner gave up waiting: call the sink no more

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

  // Hands the lines of `spans` to the sink, one call each; a line cut where a ring wraps is
  // put together first.
  void hand_over(const std::vector<std::string_view>& spans, std::string& carry) {
    auto call = [&](std::string_view line) {
      try {
        sink(line);
      } catch (...) {  // the host's exception stays in the host's callback
      }
      written.fetch_add(1, std::memory_order_relaxed);
    };
    for (auto s : spans) {
      while (!s.empty()) {
        if (abandoned.load(std::memory_order_relaxed)) return;
        const auto end = s.find('\n');
        if (end == std::string_view::npos) {
          carry.append(s);
          break;
        }
        if (carry.empty()) {
          call(s.substr(0, end));
        } else {
          carry.append(s.substr(0, end));
          call(carry);
          carry.clear();
        }
        s.remove_prefix(end + 1);
      }
    }
  }

  // The writer's thread: takes the buffers' lines in batches until stopped, then the rest. Each
  // batch ends at the buffers' heads as they were under the mutex, so that a reopen() (under the
  // mutex too) splits the lines exactly: those queued before it go to the old file, the later
  // ones to the new. Files are written straight from the buffers (writev).
  void run() {
    std::vector<std::shared_ptr<ring>> mine;
    std::vector<std::uint64_t> limits, cuts, line_marks;
    std::vector<std::string_view> before, after;  // for the file, and the reopened one
    std::vector<iovec> iov;
    std::string carry;
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
        line_marks.clear();
        for (const auto& r : mine) {
          line_marks.push_back(r->lines.load(std::memory_order_acquire));
          limits.push_back(r->head.load(std::memory_order_acquire));
          cuts.push_back(r->cut);
        }
        new_fd = std::exchange(next_fd, -1);
      }
      before.clear();
      after.clear();
      std::uint64_t lines = 0;
      for (std::size_t i = 0; i < mine.size(); ++i) {
        ring& r = *mine[i];
        const auto tail = r.tail.load(std::memory_order_relaxed), limit = limits[i];
        const auto cut = new_fd < 0 ? limit : std::clamp(cuts[i], tail, limit);
        r.spans(tail, cut, before);
        r.spans(cut, limit, after);
        lines += line_marks[i] - r.counted;
        r.counted = line_marks[i];
      }
      if (sink) {
        hand_over(before, carry);
        hand_over(after, carry);
      } else {
        bool ok = write_spans(fd, before, iov);
        if (new_fd >= 0) {  // rotated: from here on, the file at the path now
          if (fd >= 0) ::close(fd);
          fd = new_fd;
          ok = write_spans(fd, after, iov) && ok;
        }
        // A full disk, a file gone bad: counted as dropped, as an overflow is.
        if (ok)
          written.fetch_add(lines, std::memory_order_relaxed);
        else
          count_dropped(lines);
      }
      for (std::size_t i = 0; i < mine.size(); ++i)
        mine[i]->tail.store(limits[i], std::memory_order_release);
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
  // A callback that stalls past the timeout keeps its thread (which owns what it uses) until it
  // returns, and is called no more.
  if (finished) {
    thread_.join();
  } else {
    c.abandoned.store(true, std::memory_order_relaxed);
    thread_.detach();
  }
}

namespace {
thread_local ring* reserved = nullptr;  // the ring of the thread's last reserve()

// Past a quarter of the buffer the writer is woken rather than left to its period. A wake lost
// to the race with its wait costs at most the period.
void queued(log_writer::core& c, ring& r, std::uint64_t head, std::uint64_t used,
            std::size_t n) noexcept {
  r.head.store(head + n, std::memory_order_release);
  r.lines.store(r.lines.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  const std::size_t quarter = r.capacity / 4;
  if (used < quarter && used + n >= quarter) {
    c.kicked.store(true, std::memory_order_relaxed);
    c.wake.notify_one();
  }
}
}  // namespace

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
  r->put(head, line);
  queued(c, *r, head, used, n);
  return true;
}

char* log_writer::reserve(std::size_t n) noexcept {
  core& c = *core_;
  ring* r;
  try {
    r = c.ring_of_this_thread();
  } catch (...) {  // no memory for the thread's buffer: push() counts the line
    return nullptr;
  }
  const auto head = r->head.load(std::memory_order_relaxed);
  const auto used = head - r->tail.load(std::memory_order_acquire);
  const std::size_t at = head % r->capacity;
  if (r->capacity - used <= n || r->capacity - at <= n) return nullptr;
  reserved = r;
  return r->data.get() + at;
}

void log_writer::commit(std::size_t length) noexcept {
  ring& r = *reserved;
  const auto head = r.head.load(std::memory_order_relaxed);
  const auto used = head - r.tail.load(std::memory_order_acquire);
  r.data[head % r.capacity + length] = '\n';
  queued(*core_, r, head, used, length + 1);
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
