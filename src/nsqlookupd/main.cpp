// nsqlookupd entry point: parse options, bind both listeners, run until SIGINT/SIGTERM.
#include "common/config/flag_set.hpp"
#include "common/daemon/startup.hpp"
#include "common/log/logger.hpp"
#include "nsqlookupd/nsqlookupd_server.hpp"
#include "nsqlookupd/options.hpp"

int main(int argc, char** argv) {
  nsq::nsqlookupd::NsqlookupdOptions opts;
  nsq::config::FlagSet flags("nsqlookupd");
  nsq::nsqlookupd::register_nsqlookupd_flags(flags, opts);
  if (auto exit_code = nsq::daemon::parse_command_line("nsqlookupd", flags, argc, argv, opts)) {
    return *exit_code;
  }
  // Before any listener opens: a SIGTERM while starting still shuts down gracefully.
  nsq::daemon::ShutdownSignals shutdown_signals;
  nsq::log::info("nsqlookupd v{} (built w/gcc{})", NSQ_COMPAT_VERSION, __VERSION__);

  nsq::nsqlookupd::NsqlookupdServer server(opts);
  if (auto started = server.start(); !started) {
    // The reference's format string lacks its verb, so Go appends the error this way.
    nsq::log::fatal("failed to instantiate nsqlookupd%!(EXTRA *errors.errorString={})",
                    started.error());
    return 1;
  }

  shutdown_signals.wait("");
  server.stop();
  return 0;
}
