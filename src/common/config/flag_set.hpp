// FlagSet: command-line and config-file options the way Go's `flag` package and NSQ's
// go-options resolve them, so users keep typing what they type for the Go daemons:
//   -name=value  --name=value  -name value  --name value  -bool-flag  -bool-flag=false
// repeatable list flags, Go durations ("250ms", "1m30s"), Go integers (0x.., 0o.., 1_000),
// `-config=file.toml` whose keys are the flags' config keys. Like the reference (whose flag
// output goes to stderr): `-h`/`-help`/`--help` -> usage on stderr, exit 0; unknown flag or bad
// value -> message + usage on stderr, exit 2; config-file problems -> message on stderr, exit 1.
// Parsing stops at the first non-flag argument or after `--`; the rest is ignored.
// Precedence per option: command line > config file > default.
//
// Owner: a daemon's main(); used once at start-up on the main thread, never afterwards.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/gocompat/go_values.hpp"

namespace nsq::config {

using Duration = gocompat::Duration;

// Result of FlagSet::parse: what main() should do next.
struct ParseResult {
  enum class Action { kRun, kExit } action = Action::kRun;
  int exit_code = 0;  // meaningful when action == kExit (0 for -h, 2 for usage errors, 1 for
                      // config-file errors and unparsable float-list entries)
};

// Parser of a custom flag (Go's flag.Value.Set): store the value and return true, or return
// false with `reason` set to what follows `invalid value "v" for flag -name: `.
using ValueSetter = std::function<bool(std::string_view value, std::string& reason)>;

class FlagSet {
 public:
  explicit FlagSet(std::string program_name);
  ~FlagSet();
  FlagSet(const FlagSet&) = delete;
  FlagSet& operator=(const FlagSet&) = delete;

  // Each add_* takes the current *target as the flag's default (shown in usage). config_key ""
  // means "flag name with '-' replaced by '_'"; pass "-" for flags that have no config key.
  // Registering a name twice is a programming error (throws std::invalid_argument).
  void add_string(std::string name, std::string* target, std::string help,
                  std::string config_key = "");
  void add_int(std::string name, int64_t* target, std::string help, std::string config_key = "");
  void add_bool(std::string name, bool* target, std::string help, std::string config_key = "");
  void add_duration(std::string name, Duration* target, std::string help,
                    std::string config_key = "");
  // Repeatable: every command-line occurrence appends to the default; a config-file value
  // (TOML array or comma string) replaces it.
  void add_string_list(std::string name, std::vector<std::string>* target, std::string help,
                       std::string config_key = "");
  // Repeatable float list, each occurrence may be a comma list ("1.0,0.99"). Like nsqd's
  // FloatArray the command-line list is kept sorted descending; an entry that is not a float
  // prints `<date> <time> Could not parse: <s>` and exits 1. Config-file lists keep their order.
  void add_float_list(std::string name, std::vector<double>* target, std::string help,
                      std::string config_key = "");
  // A string flag that Go declares as boolean-capable (nsqd's -tls-required): a bare `-name`
  // sets the value "true". `check`, when given, validates each value like the Go Set method
  // (`invalid boolean value "v" for -name: <reason>` on the command line, `failed parsing
  // <key> <v>` + exit 1 from the config file).
  void add_bool_string(std::string name, std::string* target, std::string help,
                       std::string config_key = "", ValueSetter check = nullptr);
  // A flag with its own parser, like a Go flag.Var (nsqd's -log-level, -tls-min-version): usage
  // shows the type "value" and `default_text` unquoted (omitted when empty). Config-file values
  // are given to `set` as text (a TOML bool/int as "true"/"5"); failure there prints
  // `failed parsing <key> <v>` and exits 1, as nsqd's config Validate() does.
  void add_value(std::string name, ValueSetter set, std::string default_text, std::string help,
                 std::string config_key = "");

  // Parses argv (argv[0] is the program). Handles `-config` itself when a flag named "config"
  // was registered with add_string (not when a bool flag named "version" is set, because the
  // reference prints the version before it reads the config file). Prints usage/errors to
  // std::cerr.
  ParseResult parse(int argc, const char* const* argv);

  // True when the flag was given explicitly on the command line.
  bool was_set(std::string_view name) const;
  // Go-style usage text ("Usage of nsqd:\n  -name type\n    \thelp (default x)\n...").
  std::string usage() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nsq::config
