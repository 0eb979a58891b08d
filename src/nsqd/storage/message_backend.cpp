#include "nsqd/storage/message_backend.hpp"

#include <cassert>
#include <cerrno>
#include <charconv>
#include <chrono>

#include <unistd.h>

#include "common/disk/atomic_file.hpp"
#include "common/log/logger.hpp"
#include "nsq/protocol/wire.hpp"
#include "nsqd/storage/disk_worker.hpp"

namespace nsq::nsqd {

namespace {

int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool printable_id(std::string_view id) {
  for (char c : id) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

}  // namespace

void DiskContext::report(std::atomic<bool>& failed, const std::atomic<bool>& other_failed,
                         const std::string& error) const {
  if (!error.empty()) {
    failed.store(true);
    if (report_health) report_health(error);
    return;
  }
  if (failed.load(std::memory_order_relaxed) && failed.exchange(false) && !other_failed.load()) {
    if (report_health) report_health("");
  }
}

bool MessageBackend::left_behind(const DiskContext& ctx, const std::string& name) {
  const std::string meta = disk::join_path(ctx.data_path, name + ".diskqueue.meta.dat");
  return ::access(meta.c_str(), F_OK) == 0;
}

util::Result<std::shared_ptr<MessageBackend>> MessageBackend::open(
    const std::string& name, std::shared_ptr<const DiskContext> ctx, bool hold_until_ack) {
  disk::DiskQueueOptions options = ctx->queue_options;
  // read() decodes the header of every record the queue hands out: the queue must refuse
  // shorter ones (it sets them aside as corrupt).
  if (options.min_msg_size < static_cast<int32_t>(kHeaderSize)) {
    return util::fail("diskqueue min_msg_size " + std::to_string(options.min_msg_size) +
                      " is below the message header size " + std::to_string(kHeaderSize));
  }
  options.hold_until_ack = hold_until_ack;
  auto queue = disk::DiskQueue::open(name, ctx->data_path, options);
  if (!queue) return util::fail(queue.error());
  std::shared_ptr<MessageBackend> b(
      new MessageBackend(std::move(*queue), std::move(ctx), hold_until_ack));
  b->load_deferred_index();
  const auto pos = b->queue_->positions();
  b->salvage_.store(pos.read_file_num != pos.write_file_num || pos.read_pos != pos.write_pos);
  return b;
}

MessageBackend::MessageBackend(std::unique_ptr<disk::DiskQueue> queue,
                               std::shared_ptr<const DiskContext> ctx, bool hold_until_ack)
    : queue_(std::move(queue)), ctx_(std::move(ctx)), hold_until_ack_(hold_until_ack) {}

void MessageBackend::ack(const MessageId& id) {
  // Most FINs are of messages that never left memory: no lock for them.
  if (held_count_.load(std::memory_order_acquire) == 0) return;
  uint64_t seq = 0;
  {
    std::lock_guard lock(held_mu_);
    auto it = held_.find(id);
    if (it == held_.end()) return;  // came from memory, never from disk
    seq = it->second;
    held_.erase(it);
    held_count_.store(held_.size(), std::memory_order_release);
  }
  queue_->ack(seq);
}

void MessageBackend::release_reads() {
  {
    std::lock_guard lock(held_mu_);
    held_.clear();
    held_count_.store(0, std::memory_order_release);
  }
  queue_->release_all();
}

MessageBackend::~MessageBackend() = default;

std::string MessageBackend::deferred_index_path() const {
  return disk::join_path(ctx_->data_path, queue_->name() + ".diskqueue.deferred.dat");
}

std::string MessageBackend::write(std::span<const Outgoing> msgs) {
  if (msgs.empty()) return "";
  // One header per message in a per-thread scratch buffer; bodies are written in place.
  thread_local std::vector<char> heads;
  thread_local std::vector<disk::RecordView> records;
  heads.resize(msgs.size() * kHeaderSize);
  records.clear();
  records.reserve(msgs.size());
  for (size_t i = 0; i < msgs.size(); ++i) {
    char* h = &heads[i * kHeaderSize];
    const Message& m = *msgs[i].msg;
    protocol::write_be64(h, static_cast<uint64_t>(m.timestamp_ns()));
    protocol::write_be16(h + 8, msgs[i].attempts);
    std::memcpy(h + 10, m.id().data(), m.id().size());
    records.push_back(disk::RecordView{std::string_view(h, kHeaderSize), m.body()});
  }
  if (auto put = queue_->put_records(records); !put) {
    log::error("DISKQUEUE({}) failed to write message to backend - {}", queue_->name(),
               put.error());
    ctx_->report_write(put.error());
    return put.error();
  }
  ctx_->report_write("");
  bool deferred = false;
  for (const auto& o : msgs) deferred |= o.deferred_until_wall_ns > 0;
  if (deferred) {
    std::lock_guard lock(deferred_mu_);
    for (const auto& o : msgs) {
      if (o.deferred_until_wall_ns > 0) deferred_until_[o.msg->id()] = o.deferred_until_wall_ns;
    }
    has_deferred_.store(true);
  }
  schedule_sync_if_needed();
  return "";
}

size_t MessageBackend::read(size_t max, std::vector<Incoming>& out) {
  size_t n = 0;
  const int64_t now = has_deferred_.load() ? wall_ns() : 0;
  while (n < max) {
    Incoming in;
    uint64_t seq = 0;
    auto r = queue_->consume([&](std::string_view rec) {
      seq = queue_->reading_seq();
      // min_msg_size guarantees the header is there (checked by open()).
      assert(rec.size() >= kHeaderSize);
      const auto ts = static_cast<int64_t>(protocol::read_be64(rec.data()));
      in.attempts = protocol::read_be16(rec.data() + 8);
      MessageId id;
      std::memcpy(id.data(), rec.data() + 10, id.size());
      in.msg = Message::create(id, ts, rec.substr(kHeaderSize));
    });
    if (r != disk::ReadResult::kOk) {
      if (r == disk::ReadResult::kEmpty) salvage_.store(false, std::memory_order_relaxed);
      if (r == disk::ReadResult::kIoError) {
        // The owner's timer retries; /ping says why until a read succeeds.
        ctx_->report_read(queue_->read_error());
      }
      break;
    }
    if (hold_until_ack_) {
      std::lock_guard lock(held_mu_);
      held_[in.msg->id()] = seq;
      held_count_.store(held_.size(), std::memory_order_release);
    }
    if (now != 0) {
      std::lock_guard lock(deferred_mu_);
      auto it = deferred_until_.find(in.msg->id());
      if (it != deferred_until_.end()) {
        in.defer_ns = std::max<int64_t>(0, it->second - now);
        deferred_until_.erase(it);
        if (deferred_until_.empty()) has_deferred_.store(false);
      }
    }
    out.push_back(std::move(in));
    ++n;
  }
  if (n > 0) {
    ctx_->report_read("");
    schedule_sync_if_needed();
  }
  return n;
}

void MessageBackend::schedule_sync_if_needed() {
  if (!queue_->try_schedule_sync()) return;
  if (ctx_->worker == nullptr) {
    sync_now();
    return;
  }
  ctx_->worker->post([weak = weak_from_this()] {
    if (auto self = weak.lock()) self->sync_now();
  });
}

void MessageBackend::sync_now() {
  // A sync that failed while the fault lasted can finish after the next good write cleared
  // /ping; the next good sync clears it again, so health never stays NOK once the disk is back.
  const auto synced = queue_->sync();
  ctx_->report_write(synced ? std::string() : synced.error());
}

void MessageBackend::sync_if_dirty() {
  if (queue_->dirty()) sync_now();
}

void MessageBackend::load_deferred_index() {
  const std::string path = deferred_index_path();
  const auto file = disk::read_whole_file(path, ctx_->queue_options.file_ops);
  if (!file) {
    log::error("DISKQUEUE({}) failed to read {} - {}", queue_->name(), path, file.error());
    return;
  }
  if (!*file) return;  // no deferred messages at the last shutdown
  const std::string& text = **file;
  const int64_t now = wall_ns();
  size_t pos = 0;
  size_t bad = 0;
  std::lock_guard lock(deferred_mu_);
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string_view line(text.data() + pos, eol - pos);
    pos = eol + 1;
    if (line.empty()) continue;
    MessageId id;
    int64_t due = 0;
    if (line.size() < id.size() + 2 || line[id.size()] != ' ' ||
        !printable_id(line.substr(0, id.size()))) {
      ++bad;
      continue;
    }
    auto num = line.substr(id.size() + 1);
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), due);
    if (ec != std::errc() || p != num.data() + num.size()) {
      ++bad;
      continue;
    }
    if (due <= now) continue;  // already due: delivered at once anyway
    std::memcpy(id.data(), line.data(), id.size());
    deferred_until_[id] = due;
  }
  if (bad > 0) log::warn("DISKQUEUE({}) ignored {} bad lines in {}", queue_->name(), bad, path);
  has_deferred_.store(!deferred_until_.empty());
}

bool MessageBackend::save_deferred_index() {
  const std::string path = deferred_index_path();
  std::string text;
  {
    std::lock_guard lock(deferred_mu_);
    const int64_t now = wall_ns();
    text.reserve(deferred_until_.size() * 38);
    for (const auto& [id, due] : deferred_until_) {
      if (due <= now) continue;
      text.append(id.data(), id.size());
      text += ' ';
      text += std::to_string(due);
      text += '\n';
    }
  }
  if (text.empty()) {
    int r = ops().unlink(path);
    return r == 0 || r == -ENOENT;
  }
  if (auto written = disk::write_file_atomically(path, text, ctx_->queue_options.file_ops);
      !written) {
    log::error("DISKQUEUE({}) failed to save deferred times - {}", queue_->name(), written.error());
    return false;
  }
  return true;
}

bool MessageBackend::close() {
  auto closed = queue_->close();
  if (!closed) log::error("DISKQUEUE({}) failed to close - {}", queue_->name(), closed.error());
  return save_deferred_index() && closed.ok();
}

void MessageBackend::empty() {
  {
    std::lock_guard lock(held_mu_);
    held_.clear();
    held_count_.store(0, std::memory_order_release);
  }
  if (auto emptied = queue_->empty(); !emptied) {
    log::error("DISKQUEUE({}) failed to empty - {}", queue_->name(), emptied.error());
  }
  std::lock_guard lock(deferred_mu_);
  deferred_until_.clear();
  has_deferred_.store(false);
}

void MessageBackend::remove() {
  // The reference empties a deleted topic's or channel's queue, then deletes it (the exit of
  // nsqd/topic.go and channel.go); deleting covers both here, the line stays for operators.
  log::info("DISKQUEUE({}): emptying", queue_->name());
  if (auto deleted = queue_->delete_all(); !deleted) {
    log::error("DISKQUEUE({}) failed to delete - {}", queue_->name(), deleted.error());
  }
  ops().unlink(deferred_index_path());
  std::lock_guard lock(deferred_mu_);
  deferred_until_.clear();
  has_deferred_.store(false);
}

}  // namespace nsq::nsqd
