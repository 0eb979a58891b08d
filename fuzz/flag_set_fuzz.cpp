// Command lines and TOML config files as the daemons read them at start-up (FlagSet: Go's flag
// package plus go-options). Input: [mode][bytes...]; mode bit 0: the bytes are a config file
// (passed with -config), else a command line (arguments separated by NUL bytes). Every input
// ends in "run" or an exit with one of the documented codes; nothing else may happen.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/config/flag_set.hpp"
#include "fuzz/fuzz_target.hpp"

namespace {

using nsq::config::FlagSet;

// One flag of every kind, with the reference's config-key conventions.
struct Options {
  std::string config;
  std::string name = "n";
  int64_t count = 5;
  bool verbose = false;
  nsq::config::Duration timeout = std::chrono::seconds(60);
  std::vector<std::string> addresses;
  std::vector<double> quantiles;
  std::string tls_required = "false";
  std::string level = "info";

  void register_on(FlagSet& f) {
    f.add_string("config", &config, "path to config file", "-");
    f.add_string("name", &name, "a name");
    f.add_int("count", &count, "a count");
    f.add_bool("verbose", &verbose, "chatty");
    f.add_duration("msg-timeout", &timeout, "a duration");
    f.add_string_list("lookupd-tcp-address", &addresses, "a list", "nsqlookupd_tcp_addresses");
    f.add_float_list("e2e-processing-latency-percentile", &quantiles, "floats");
    f.add_bool_string("tls-required", &tls_required, "bool or string");
    f.add_value(
        "log-level",
        [this](std::string_view v, std::string& reason) {
          if (v != "debug" && v != "info" && v != "warn") {
            reason = "invalid log level";
            return false;
          }
          level = v;
          return true;
        },
        "info", "a custom value");
  }
};

// A config file must be a file: a private temporary one per input.
class TempFile {
 public:
  explicit TempFile(std::string_view content) {
    char path[] = "/tmp/nsq-fuzz-config-XXXXXX";
    const int fd = ::mkstemp(path);
    FUZZ_CHECK(fd >= 0);
    path_ = path;
    FUZZ_CHECK(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
    ::close(fd);
  }
  ~TempFile() { ::unlink(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// FlagSet prints usage and errors to std::cerr; a fuzzer run should not.
class SilenceCerr {
 public:
  SilenceCerr() : old_(std::cerr.rdbuf(sink_.rdbuf())) {}
  ~SilenceCerr() { std::cerr.rdbuf(old_); }
  SilenceCerr(const SilenceCerr&) = delete;
  SilenceCerr& operator=(const SilenceCerr&) = delete;

 private:
  std::ostringstream sink_;
  std::streambuf* old_;
};

nsq::config::ParseResult parse(const std::vector<std::string>& args) {
  Options o;
  FlagSet flags("fuzzd");
  o.register_on(flags);
  std::vector<const char*> argv{"fuzzd"};
  for (const auto& a : args) argv.push_back(a.c_str());
  const SilenceCerr quiet;
  return flags.parse(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

NSQ_FUZZ_TARGET(flag_set) {
  if (size < 1) return 0;
  const std::string_view bytes = nsq::fuzz::as_view(data + 1, size - 1);
  nsq::config::ParseResult r;
  if ((data[0] & 1) != 0) {
    const TempFile file(bytes);
    r = parse({"-config=" + file.path()});
  } else {
    std::vector<std::string> args;
    size_t start = 0;
    for (size_t nul; (nul = bytes.find('\0', start)) != std::string_view::npos; start = nul + 1) {
      args.emplace_back(bytes.substr(start, nul - start));
    }
    args.emplace_back(bytes.substr(start));
    r = parse(args);
  }
  using Action = nsq::config::ParseResult::Action;
  FUZZ_CHECK(r.action == Action::kRun || r.exit_code == 0 || r.exit_code == 1 || r.exit_code == 2);
  return 0;
}
