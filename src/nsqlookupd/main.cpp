// nsqlookupd entry point: parse options, bind both listeners, run until SIGINT/SIGTERM.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>

#include "common/config/flag_set.hpp"
#include "common/log/logger.hpp"
#include "nsqlookupd/nsqlookupd_server.hpp"
#include "nsqlookupd/options.hpp"

int main(int argc, char** argv) {
  nsq::nsqlookupd::NsqlookupdOptions opts;
  nsq::config::FlagSet flags("nsqlookupd");
  nsq::nsqlookupd::register_nsqlookupd_flags(flags, opts);
  const auto parsed = flags.parse(argc, argv);
  if (parsed.action == nsq::config::ParseResult::Action::kExit) return parsed.exit_code;

  if (opts.show_version) {
    std::cout << "nsqlookupd v" << NSQ_COMPAT_VERSION << " (built w/gcc" << __VERSION__ << ")\n";
    return 0;
  }

  nsq::log::Level level;
  if (!nsq::log::parse_level(opts.log_level, level)) {
    std::cerr << "invalid value \"" << opts.log_level
              << "\" for flag -log-level: invalid log level\n";
    return 2;
  }
  nsq::log::init(opts.log_prefix, level);
  nsq::log::info("nsqlookupd v{} (built w/gcc{})", NSQ_COMPAT_VERSION, __VERSION__);

  nsq::nsqlookupd::NsqlookupdServer server(opts);
  std::string error;
  if (!server.start(error)) {
    // The reference's format string lacks its verb, so Go appends the error this way.
    nsq::log::fatal("failed to instantiate nsqlookupd%!(EXTRA *errors.errorString={})", error);
    return 1;
  }

  boost::asio::io_context signals_ctx;
  boost::asio::signal_set signals(signals_ctx, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {});
  signals_ctx.run();
  server.stop();
  return 0;
}
