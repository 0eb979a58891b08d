// Whole-file helpers for small metadata files (diskqueue *.meta.dat, nsqd.dat).
//
// write_file_atomically: the reference's pattern (temp file "<path>.<random int>.tmp", write,
// fsync, rename over the target) plus an fsync of the directory, which the reference skips
// ("technically should fsync DataPath here"): without it a crash right after the rename can
// bring back the old file. A reader therefore always sees either the old or the new content,
// never a torn one. Files are created with mode 0600, as the reference does.
//
// Threads: free functions, safe to call concurrently for different paths; two concurrent writes
// of the same path each land whole, last rename wins (callers serialise when order matters).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/disk/file_ops.hpp"
#include "common/util/result.hpp"

namespace nsq::disk {

// Fails with a Go-style "<op> <path>: <reason>"; the temp file is then removed and the target
// left untouched. `ops` = nullptr means the real syscalls.
util::Status write_file_atomically(const std::string& path, std::string_view data,
                                   FileOps* ops = nullptr);

// Deletes the temp files ("<path>.<digits>.tmp") of writes of `path` that a crash cut short
// between creating the temp file and the rename; the reference leaves them behind forever.
// Only files last modified `min_age` ago or earlier: a write in progress (a queue of the same
// name that is still closing) keeps its file; a fresh leftover goes at a later start. Called
// by the owner of `path` before its first write. Returns how many it deleted.
size_t remove_stale_temp_files(const std::string& path,
                               std::chrono::seconds min_age = std::chrono::seconds(10));

// The whole file, or std::nullopt when it does not exist: a missing metadata file is a fresh
// start, not an error. Fails with "<op> <path>: <reason>".
util::Result<std::optional<std::string>> read_whole_file(const std::string& path,
                                                         FileOps* ops = nullptr);

// "<dir>" of "<dir>/<file>", "." for a bare file name.
std::string parent_dir(const std::string& path);

// "<a>/<b>" the way Go's path.Join(a, b) builds data-path file names ("" + b -> b).
std::string join_path(const std::string& dir, std::string_view file);

// Go's rand.Int(): a non-negative 63-bit random number, used in temp file names.
int64_t random_int63();

}  // namespace nsq::disk
