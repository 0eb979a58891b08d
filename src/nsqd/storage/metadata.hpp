// nsqd.dat: the list of topics and channels (with their paused flags) that survives a restart
// (the reference's nsqd/nsqd.go, PersistMetadata). Same bytes as the reference writes: compact
// JSON, keys in the reference's struct order, `null` for an empty list:
//   {"topics":[{"name":"t","paused":false,"channels":[{"name":"c","paused":true}]},
//              {"name":"u","paused":true,"channels":null}],"version":"1.3.0"}
// Decoding follows Go's encoding/json (keys match case-insensitively, unknown keys are ignored,
// null keeps the zero value, a wrong JSON type fails the whole file) and reports errors in Go's
// words, because they end up in the same fatal start-up message.
//
// serialize/parse are pure; load/save do the file I/O (save is atomic: temp file, fsync, rename,
// fsync dir). Threads: no shared state; the caller serialises saves (Nsqd holds its lock).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/disk/file_ops.hpp"
#include "common/util/result.hpp"

namespace nsq::nsqd {

struct ChannelMetadata {
  std::string name;
  bool paused = false;
  bool operator==(const ChannelMetadata&) const = default;
};

struct TopicMetadata {
  std::string name;
  bool paused = false;
  std::vector<ChannelMetadata> channels;
  bool operator==(const TopicMetadata&) const = default;
};

struct Metadata {
  std::vector<TopicMetadata> topics;
  std::string version = NSQ_COMPAT_VERSION;
  bool operator==(const Metadata&) const = default;
};

// Compact JSON. Ephemeral topics and channels are left out (they never survive a restart).
std::string serialize_metadata(const Metadata& m);

// Decodes with Go's rules. Fails with Go's error text ("unexpected end of JSON input",
// "json: cannot unmarshal ... of type bool", ...). Topics and channels with invalid names are
// dropped and reported in `warnings` with the reference's wording ("skipping creation of
// invalid topic <name>"); a dropped topic drops its channels.
util::Result<Metadata> parse_metadata(std::string_view json,
                                      std::vector<std::string>* warnings = nullptr);

// "<data_path>/nsqd.dat" ("nsqd.dat" when data_path is empty).
std::string metadata_file_path(const std::string& data_path);

// Reads and parses nsqd.dat. A missing file is a fresh start (empty Metadata). Errors carry the
// reference's prefixes: "failed to read metadata from <file> - <err>",
// "failed to parse metadata in <file> - <err>".
util::Result<Metadata> load_metadata_file(const std::string& data_path,
                                          std::vector<std::string>* warnings = nullptr,
                                          disk::FileOps* ops = nullptr);

// Writes nsqd.dat atomically (mode 0600).
util::Status save_metadata_file(const std::string& data_path, const Metadata& m,
                                disk::FileOps* ops = nullptr);

}  // namespace nsq::nsqd
