// Switching a data directory between the disk queues (nsqd without -durable, and the
// reference nsqd v1.3.0) and the durable topic logs (-durable), at start, before any topic is
// created (docs/persistence.md, "Switching modes"). Both run on the loading thread.
//
// take_over_disk_queues (-durable): for every topic of nsqd.dat, the messages of its channels'
// disk queues ("<topic>:<channel>.diskqueue.*") and then of the topic's own queue
// ("<topic>.diskqueue.*") are appended to the topic's log. A channel's messages are scoped to
// that channel: every other channel's journal records them as acknowledged (ACK records), so
// each channel sees exactly its own backlog followed by the topic's. Due times of the deferred
// side file ("<name>.diskqueue.deferred.dat") become the records' due times.
//
// move_logs_to_disk_queues (no -durable): for every topic of nsqd.dat with a "<topic>.log/",
// every message a channel has not acknowledged goes, in log order, to that channel's disk
// queue (a topic without channels: every stored message to the topic's queue); due times go to
// the deferred side file. Then the log directory is removed.
//
// Crash safety (both ways): the destination is written and fsynced (log, then journals; or the
// disk queues and their metadata, then the data directory) before the source is deleted and
// the data directory fsynced. A crash before the deletion runs the switch again at the next
// start: duplicates, never a loss.
//
// Neither changes anything for a topic that has nothing to switch (no log directory creation).
#pragma once

#include "common/util/result.hpp"
#include "nsqd/storage/message_backend.hpp"
#include "nsqd/storage/metadata.hpp"

namespace nsq::nsqd {

// `like`: nsqd's disk context; its data path, disk queue options and log segment size are used
// (not its worker: syncs run inline here). Every file call, the logs', journals' and markers'
// included, goes through its queue_options.file_ops (null: the real calls), so a test can cut
// the power at any one. Fails, leaving every source file in place, on the first read, write or
// fsync error.
util::Status take_over_disk_queues(const Metadata& md, const DiskContext& like);
util::Status move_logs_to_disk_queues(const Metadata& md, const DiskContext& like);

}  // namespace nsq::nsqd
