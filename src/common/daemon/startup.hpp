// The start-up steps every daemon shares, so nsqd, nsqlookupd and nsqadmin behave alike:
// parse the command line (Go flag rules), answer -version, validate -log-level and set up
// logging; and, at the end of main, wait for SIGINT/SIGTERM.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <optional>
#include <string>

#include "common/config/flag_set.hpp"
#include "common/daemon/daemon_options.hpp"

namespace nsq::daemon {

// Parses argv into the flags' targets (`common` among them). Returns the exit code when the
// process must end here (-h, a bad flag, -version, an invalid -log-level), nullopt when it
// should go on.
std::optional<int> parse_command_line(const std::string& daemon_name, config::FlagSet& flags,
                                      int argc, char** argv, const DaemonOptions& common);

// Catches SIGINT and SIGTERM from its construction on. A daemon creates it before it opens its
// listeners, so a signal that arrives while it starts (a supervisor or a test stopping it as
// soon as its port answers) still ends in the graceful shutdown instead of the default action
// killing the process. (The reference's go-svc Run() registers only after Start() has opened
// the listeners, and dies by SIGTERM in that window.)
class ShutdownSignals {
 public:
  ShutdownSignals();
  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;

  // Blocks until SIGINT or SIGTERM has arrived (returns at once if one came already); logs
  // `stopping_line` (if not empty) when it does.
  void wait(const std::string& stopping_line);

 private:
  boost::asio::io_context ctx_;
  boost::asio::signal_set signals_;
};

// Ends the process at once after a FATAL line, as Go's os.Exit: no destructors run. Unwinding
// a half-started daemon would close (and persist) state it never loaded, and glibc's exit()
// hangs destroying a static condition variable a helper thread still waits on.
[[noreturn]] void exit_now(int code);

}  // namespace nsq::daemon
