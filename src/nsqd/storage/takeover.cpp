#include "nsqd/storage/takeover.hpp"

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fcntl.h>

#include "common/disk/atomic_file.hpp"
#include "common/log/logger.hpp"
#include "nsqd/storage/channel_journal.hpp"
#include "nsqd/storage/topic_log.hpp"

namespace nsq::nsqd {

namespace {

// Messages moved per read/append: bounds the memory a switch needs whatever the backlog.
constexpr size_t kBatch = 1024;
// A topic log only starts a new segment in sync(): sync this often while appending, so a large
// takeover still rolls 64 MiB segments (trimming drops whole ones).
constexpr int64_t kSyncEveryBytes = 32 * 1024 * 1024;

int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The file calls of a switch: the disk queues' (tests inject power losses there), so every
// file a switch touches goes through the same FileOps.
disk::FileOps& ops_of(const DiskContext& ctx) {
  return ctx.queue_options.file_ops != nullptr ? *ctx.queue_options.file_ops
                                               : disk::real_file_ops();
}

// Makes the creations and deletions in `dir` durable.
util::Status fsync_dir(disk::FileOps& ops, const std::string& dir) {
  const int fd = ops.open(dir, O_RDONLY | O_DIRECTORY, 0);
  if (fd < 0) return util::fail("open " + dir + ": " + disk::errno_text(-fd));
  const int r = ops.fsync(fd);
  ops.close(fd);
  if (r < 0) return util::fail("sync " + dir + ": " + disk::errno_text(-r));
  return {};
}

// A context like nsqd's, but with syncs inline (no worker) and no health reports: nothing
// else runs yet, and a failure here fails the start instead.
std::shared_ptr<const DiskContext> inline_context(const DiskContext& like,
                                                  bool keep_read_position = false) {
  auto ctx = std::make_shared<DiskContext>();
  ctx->data_path = like.data_path;
  ctx->queue_options = like.queue_options;
  ctx->queue_options.keep_read_position = keep_read_position;
  ctx->log_segment_bytes = like.log_segment_bytes;
  return ctx;
}

util::Result<std::shared_ptr<TopicLog>> open_log(const DiskContext& ctx, const std::string& topic) {
  TopicLogOptions o;
  o.dir = ctx.data_path + "/" + topic + ".log";  // as Topic names it
  o.segment_bytes = ctx.log_segment_bytes;
  o.ops = ctx.queue_options.file_ops;
  auto log = TopicLog::open(o);
  if (!log) return util::fail("open the log of " + topic + ": " + log.error());
  return log;
}

std::string log_dir(const DiskContext& ctx, const std::string& topic) {
  return ctx.data_path + "/" + topic + ".log";
}

// The names of the disk queues in the data directory: every "<name>.diskqueue.<rest>" whose
// rest is a data file number, "meta.dat", our "deferred.dat", or a metadata temp file a crash
// left ("meta.dat.<digits>.tmp", deleted with the queue).
std::set<std::string> disk_queue_names(const std::string& data_path) {
  static constexpr std::string_view kInfix = ".diskqueue.";
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(data_path, ec)) {
    const std::string file = entry.path().filename().string();
    const size_t at = file.rfind(kInfix);
    if (at == std::string::npos || at == 0) continue;
    const std::string_view rest = std::string_view(file).substr(at + kInfix.size());
    bool numbered = rest.size() == 10 && rest.ends_with(".dat");
    for (size_t i = 0; numbered && i < 6; ++i) numbered = rest[i] >= '0' && rest[i] <= '9';
    const bool temp = rest.starts_with("meta.dat.") && rest.ends_with(".tmp");
    if (numbered || temp || rest == "meta.dat" || rest == "deferred.dat") {
      names.insert(file.substr(0, at));
    }
  }
  return names;
}

// One disk queue taken over: its messages are the log's offsets [begin, end).
struct TakenQueue {
  std::string channel;  // "" for the topic's own queue
  std::shared_ptr<MessageBackend> backend;
  uint64_t begin = 0;
  uint64_t end = 0;
  size_t deferred = 0;
};

// Appends every message of `q.backend` to `log`, in order. The queue keeps its read position
// (keep_read_position), so a crash before the queue is deleted leaves it whole.
util::Status append_queue(TopicLog& log, const DiskContext& ctx, TakenQueue& q,
                          int64_t& unsynced_bytes) {
  q.begin = log.next_offset();
  std::vector<MessageBackend::Incoming> in;
  std::vector<LogAppend> items;
  for (;;) {
    in.clear();
    if (q.backend->read(kBatch, in) == 0) break;
    const int64_t now = wall_ns();
    items.clear();
    for (const auto& m : in) {
      const int64_t due = m.defer_ns > 0 ? now + m.defer_ns : 0;
      if (due != 0) ++q.deferred;
      items.push_back(LogAppend{m.msg->id(), m.msg->timestamp_ns(), due, m.msg->body()});
      unsynced_bytes += static_cast<int64_t>(kTopicLogRecordHeaderSize + m.msg->body().size());
    }
    if (auto r = log.append(items); !r)
      return util::fail("append to " + log.dir() + ": " + r.error());
    if (unsynced_bytes >= kSyncEveryBytes) {
      log.sync();
      unsynced_bytes = 0;
    }
  }
  // read() returns nothing on an I/O error too: then the queue is not done.
  if (ctx.read_unhealthy.load()) return util::fail("read of disk queue " + q.backend->name());
  q.end = log.next_offset();
  return {};
}

// Offsets [begin, end) of the log that an interrupted takeover appended.
struct Interrupted {
  uint64_t begin = 0;
  uint64_t end = 0;
};

// Every journal of the topic gets its START (a new one) and the ACKs that scope each channel's
// taken-over messages to that channel alone, and that hide an interrupted attempt's copies.
void scope_to_channels(const std::vector<TakenQueue>& queues, const TakenQueue* topic_queue,
                       uint64_t log_end, const Interrupted& earlier, const std::string& channel,
                       ChannelJournal& journal) {
  const TakenQueue* own = nullptr;
  for (const auto& q : queues) {
    if (!q.channel.empty() && q.channel == channel) own = &q;
  }
  const AckState state = journal.durable_state();
  uint64_t from = state.floor;
  if (!state.started) {
    // Its own backlog first, then the topic's; a channel with neither starts at the end.
    from = own ? own->begin : topic_queue ? topic_queue->begin : log_end;
    journal.record(AckRecord::kStart, from);
  }
  for (const auto& q : queues) {
    if (q.channel.empty() || &q == own) continue;
    for (uint64_t o = std::max(from, q.begin); o < q.end; ++o) journal.record(AckRecord::kAck, o);
  }
  for (uint64_t o = std::max(from, earlier.begin); o < earlier.end; ++o) {
    if (!state.is_acked(o)) journal.record(AckRecord::kAck, o);
  }
}

// "<topic>.log/takeover" exists only while a takeover is under way. First it holds the log's
// end from before it: a start that finds that knows the records from that offset on are an
// interrupted attempt's copies of messages still in the disk queues, and hides them. Once the
// log and the journals are fsynced it says "committed": a start that finds that only deletes
// what is left of the disk queues (a crash may have cut their deletion short).
constexpr std::string_view kCommitted = "committed";

struct Marker {
  bool committed = false;
  Interrupted earlier;
};

util::Result<Marker> begin_takeover(const TopicLog& log, const std::string& marker,
                                    disk::FileOps& ops) {
  disk::remove_stale_temp_files(marker, std::chrono::seconds(0));  // a write cut by a crash
  auto read = disk::read_whole_file(marker, &ops);
  if (!read) return util::fail(read.error());
  if (read->has_value()) {
    const std::string& text = **read;
    if (text == kCommitted) return Marker{true, {}};
    uint64_t begin = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), begin);
    if (ec != std::errc() || end != text.data() + text.size() || begin > log.next_offset()) {
      return util::fail("bad content in " + marker + ": " + text);
    }
    log::warn("NSQ: resuming the takeover interrupted at offset {} of {}", begin, log.dir());
    return Marker{false, Interrupted{begin, log.next_offset()}};
  }
  if (auto s = disk::write_file_atomically(marker, std::to_string(log.next_offset()), &ops); !s) {
    return util::fail(s.error());
  }
  return Marker{};
}

// The takeover is complete (its queues are deleted): the marker goes.
util::Status end_takeover(disk::FileOps& ops, const std::string& marker) {
  const int r = ops.unlink(marker);
  if (r == -ENOENT) return {};
  if (r < 0) return util::fail("remove " + marker + ": " + disk::errno_text(-r));
  return fsync_dir(ops, disk::parent_dir(marker));
}

// The last step: deletes the disk queues (all taken over), then the marker.
util::Status remove_queues(const std::vector<TakenQueue>& queues, const DiskContext& ctx,
                           const std::string& marker) {
  for (const auto& q : queues) q.backend->remove();
  if (auto s = fsync_dir(ops_of(ctx), ctx.data_path); !s) return s;
  return end_takeover(ops_of(ctx), marker);
}

util::Status take_over_topic(const TopicMetadata& topic, const std::set<std::string>& found,
                             const std::shared_ptr<const DiskContext>& ctx) {
  std::vector<TakenQueue> queues;  // the channels' queues first, then the topic's
  // Reading never moves a queue's persisted read position nor frees a file: until the
  // deletion below, a crash leaves every queue whole.
  const auto read_ctx = inline_context(*ctx, /*keep_read_position=*/true);
  const auto take = [&](const std::string& channel) -> util::Status {
    const std::string name = channel.empty() ? topic.name : topic.name + ":" + channel;
    if (!found.count(name)) return {};
    // Metadata writes that a crash cut short (an earlier takeover killed by -9): durable mode
    // writes no disk queue metadata, so any age is stale.
    disk::remove_stale_temp_files(disk::join_path(ctx->data_path, name + ".diskqueue.meta.dat"),
                                  std::chrono::seconds(0));
    auto b = MessageBackend::open(name, read_ctx);
    if (!b) return util::fail("open disk queue " + name + ": " + b.error());
    queues.push_back(TakenQueue{channel, std::move(*b)});
    return {};
  };
  for (const auto& c : topic.channels) {
    if (auto s = take(c.name); !s) return s;
  }
  if (auto s = take(""); !s) return s;
  const std::string marker = log_dir(*ctx, topic.name) + "/takeover";
  // Nothing (left) to take over; an interrupted takeover that got as far as deleting the
  // queues is complete.
  if (queues.empty()) return end_takeover(ops_of(*ctx), marker);

  auto opened = open_log(*ctx, topic.name);
  if (!opened) return util::fail(opened.error());
  std::shared_ptr<TopicLog> log = std::move(*opened);
  const auto begun = begin_takeover(*log, marker, ops_of(*ctx));
  if (!begun) return util::fail(begun.error());
  if (begun->committed) {
    log::warn("TOPIC({}): finishing the deletion of the disk queues it took over", topic.name);
    return remove_queues(queues, *ctx, marker);
  }
  Interrupted earlier = begun->earlier;
  if (earlier.end > earlier.begin && topic.channels.empty()) {
    // No journal can hide the earlier copies from the channel to come: drop them with the log
    // they made (the usual case: the log began with that takeover).
    if (earlier.begin == log->start_offset()) {
      log->remove_all();
      auto reopened = open_log(*ctx, topic.name);
      if (!reopened) return util::fail(reopened.error());
      log = std::move(*reopened);
      earlier = Interrupted{};
    } else {
      log::warn("TOPIC({}): offsets {} to {} of its log are copies of an interrupted takeover",
                topic.name, earlier.begin, earlier.end);
    }
  }
  std::vector<std::unique_ptr<ChannelJournal>> journals;
  for (const auto& c : topic.channels) {
    auto opened_journal = ChannelJournal::open(log->dir(), c.name, ctx->queue_options.file_ops);
    if (!opened_journal) {
      return util::fail("open the journal of " + topic.name + ":" + c.name + ": " +
                        opened_journal.error());
    }
    std::unique_ptr<ChannelJournal> j = std::move(*opened_journal);
    if (!j->existed()) log->directory_changed();  // its name is fsynced with the log
    // One flush below writes them all; the next start folds them into the checkpoint.
    j->compact_after = std::numeric_limits<size_t>::max();
    journals.push_back(std::move(j));
  }

  int64_t unsynced = 0;
  for (auto& q : queues) {
    if (auto s = append_queue(*log, *read_ctx, q, unsynced); !s) return s;
  }
  const TakenQueue* topic_queue = queues.back().channel.empty() ? &queues.back() : nullptr;
  for (size_t i = 0; i < journals.size(); ++i) {
    scope_to_channels(queues, topic_queue, log->next_offset(), earlier, topic.channels[i].name,
                      *journals[i]);
  }
  // The log first: a journal never names an offset the log could still lose.
  log->sync();
  if (log->synced_offset() != log->next_offset()) {
    return util::fail("fsync of the log of " + topic.name + " failed");
  }
  for (auto& j : journals) {
    if (auto r = j->flush(log->synced_offset()); !r) return util::fail(r.error());
  }
  // Everything is durable in the log: the disk queues can go.
  if (auto s = disk::write_file_atomically(marker, kCommitted, &ops_of(*ctx)); !s) return s;
  if (auto s = remove_queues(queues, *ctx, marker); !s) return s;
  for (const auto& q : queues) {
    log::info("TOPIC({}): took over {} messages ({} deferred) from the disk queue {}", topic.name,
              q.end - q.begin, q.deferred, q.backend->name());
  }
  return {};
}

// The channels with a journal in a topic's log directory.
std::vector<std::string> journal_channels(const std::string& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto& p = entry.path();
    if (p.extension() == ".acks" || p.extension() == ".ckpt") names.insert(p.stem().string());
  }
  return {names.begin(), names.end()};
}

// Writes every message of `log` from `state.floor` that `state` has not acknowledged to `b`.
util::Status write_unacknowledged(TopicLog& log, const AckState& state, MessageBackend& b,
                                  size_t& moved, size_t& deferred) {
  std::vector<LogRecord> records;
  std::vector<MessagePtr> msgs;
  std::vector<MessageBackend::Outgoing> out;
  const uint64_t end = log.next_offset();
  for (uint64_t at = state.floor; at < end;) {
    records.clear();
    if (auto s = log.read(at, kBatch, records); !s) {
      return util::fail("read " + log.dir() + ": " + s.error());
    }
    if (records.empty()) break;
    const int64_t now = wall_ns();
    msgs.clear();
    out.clear();
    for (const auto& r : records) {
      at = r.offset + 1;
      if (state.is_acked(r.offset)) continue;
      const auto req = state.deferred.find(r.offset);
      const int64_t due = req != state.deferred.end() ? req->second : r.due_ns;
      msgs.push_back(Message::create(r.id, r.timestamp_ns, r.body));
      out.push_back(MessageBackend::Outgoing{msgs.back().get(), 0, due > now ? due : 0});
      if (due > now) ++deferred;
    }
    if (std::string error = b.write(out); !error.empty()) {
      return util::fail("write disk queue " + b.name() + ": " + error);
    }
    moved += out.size();
  }
  return {};
}

// "<topic>.log/moving-out" lists the disk queues a move back creates (those that did not
// exist), written before any is. A start that finds it deletes those queues (an interrupted
// attempt's partial copies) before writing them again.
util::Status begin_move(const std::string& marker, const std::vector<std::string>& queues,
                        const std::set<std::string>& found,
                        const std::shared_ptr<const DiskContext>& ctx) {
  disk::remove_stale_temp_files(marker, std::chrono::seconds(0));  // a write cut by a crash
  auto read = disk::read_whole_file(marker, &ops_of(*ctx));
  if (!read) return util::fail(read.error());
  if (read->has_value()) {
    const std::string& text = **read;
    for (size_t at = 0; at < text.size();) {
      const size_t eol = std::min(text.find('\n', at), text.size());
      const std::string name = text.substr(at, eol - at);
      at = eol + 1;
      auto b = MessageBackend::open(name, ctx);
      if (!b) return util::fail("open disk queue " + name + ": " + b.error());
      log::warn("NSQ: deleting {}.diskqueue.*, the partial copy of an interrupted move", name);
      (*b)->remove();
    }
    return fsync_dir(ops_of(*ctx), ctx->data_path);
  }
  std::string text;
  for (const auto& name : queues) {
    if (!found.count(name)) text += (text.empty() ? "" : "\n") + name;
  }
  return disk::write_file_atomically(marker, text, &ops_of(*ctx));
}

// A log directory renamed for removal ("<topic>.log.removing": no topic's log has that
// name) that a crash left behind.
util::Status remove_renamed_log(const DiskContext& ctx, const std::string& topic) {
  const std::string dir = log_dir(ctx, topic) + ".removing";
  std::error_code ec;
  if (std::filesystem::remove_all(dir, ec) == 0) return {};
  if (ec) return util::fail("remove " + dir + ": " + ec.message());
  return fsync_dir(ops_of(ctx), ctx.data_path);
}

util::Status move_topic_log(const TopicMetadata& topic, const std::set<std::string>& found,
                            const std::shared_ptr<const DiskContext>& ctx) {
  const std::string dir = log_dir(*ctx, topic.name);
  auto opened = open_log(*ctx, topic.name);
  if (!opened) return util::fail(opened.error());
  std::shared_ptr<TopicLog> log = std::move(*opened);
  // A channel's unacknowledged messages go to its queue; with no channel, every stored message
  // (none was taken) to the topic's.
  const std::vector<std::string> channels = journal_channels(dir);
  std::vector<std::string> names;
  for (const auto& c : channels) names.push_back(topic.name + ":" + c);
  if (channels.empty()) names.push_back(topic.name);
  if (auto s = begin_move(dir + "/moving-out", names, found, ctx); !s) return s;

  struct Moved {
    std::shared_ptr<MessageBackend> backend;
    size_t messages = 0;
    size_t deferred = 0;
  };
  std::vector<Moved> moved;
  for (size_t i = 0; i < names.size(); ++i) {
    AckState state;
    state.floor = log->start_offset();
    if (!channels.empty()) {
      auto journal = ChannelJournal::open(dir, channels[i], ctx->queue_options.file_ops);
      if (!journal) return util::fail("open the journal of " + names[i] + ": " + journal.error());
      state = (*journal)->durable_state();
      // As recovery does: a journal without its START begins at the log's first offset.
      if (!state.started) state.floor = log->start_offset();
    }
    auto opened_queue = MessageBackend::open(names[i], ctx);
    if (!opened_queue)
      return util::fail("open disk queue " + names[i] + ": " + opened_queue.error());
    const std::shared_ptr<MessageBackend> b = std::move(*opened_queue);
    Moved m{b};
    if (auto s = write_unacknowledged(*log, state, *b, m.messages, m.deferred); !s) return s;
    moved.push_back(std::move(m));
  }
  // The queues (data, metadata, deferred side file) are fsynced by close(); their names by the
  // directory fsync. Only then does the log go, by one rename (the commit), then file by file.
  for (auto& m : moved) {
    if (!m.backend->close()) return util::fail("close disk queue " + m.backend->name());
  }
  if (auto s = fsync_dir(ops_of(*ctx), ctx->data_path); !s) return s;
  log.reset();
  if (const int r = ops_of(*ctx).rename(dir, dir + ".removing"); r < 0) {
    return util::fail("rename " + dir + ": " + disk::errno_text(-r));
  }
  if (auto s = fsync_dir(ops_of(*ctx), ctx->data_path); !s) return s;
  if (auto s = remove_renamed_log(*ctx, topic.name); !s) return s;
  for (const auto& m : moved) {
    log::info(
        "TOPIC({}): moved {} messages ({} deferred) from the durable log to the disk queue {}",
        topic.name, m.messages, m.deferred, m.backend->name());
  }
  return {};
}

}  // namespace

util::Status take_over_disk_queues(const Metadata& md, const DiskContext& like) {
  const auto ctx = inline_context(like);
  std::set<std::string> found = disk_queue_names(ctx->data_path);
  for (const auto& topic : md.topics) {
    if (auto s = remove_renamed_log(*ctx, topic.name); !s) return s;
    if (auto s = take_over_topic(topic, found, ctx); !s) {
      return util::fail("take over the disk queues of " + topic.name + " - " + s.error());
    }
    found.erase(topic.name);
    for (const auto& c : topic.channels) found.erase(topic.name + ":" + c.name);
  }
  for (const auto& name : found) {
    log::warn(
        "NSQ: the disk queue {}.diskqueue.* belongs to no topic or channel of nsqd.dat; left "
        "in place",
        name);
  }
  return {};
}

util::Status move_logs_to_disk_queues(const Metadata& md, const DiskContext& like) {
  const auto ctx = inline_context(like);
  const std::set<std::string> found = disk_queue_names(ctx->data_path);
  for (const auto& topic : md.topics) {
    if (auto s = remove_renamed_log(*ctx, topic.name); !s) return s;
    std::error_code ec;
    if (!std::filesystem::is_directory(log_dir(*ctx, topic.name), ec)) continue;
    if (auto s = move_topic_log(topic, found, ctx); !s) {
      return util::fail("move the durable log of " + topic.name + " - " + s.error());
    }
  }
  return {};
}

}  // namespace nsq::nsqd
