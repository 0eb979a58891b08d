#include "common/daemon/startup.hpp"

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "common/log/logger.hpp"

namespace nsq::daemon {

std::optional<int> parse_command_line(const std::string& daemon_name, config::FlagSet& flags,
                                      int argc, char** argv, const DaemonOptions& common) {
  const auto parsed = flags.parse(argc, argv);
  if (parsed.action == config::ParseResult::Action::kExit) return parsed.exit_code;
  if (common.show_version) {
    std::cout << daemon_name << " v" << NSQ_COMPAT_VERSION << " (built w/gcc" << __VERSION__
              << ")\n";
    return 0;
  }
  log::Level level;
  if (!log::parse_level(common.log_level, level)) {
    // The text Go's flag package prints for a rejected value; exit 2 as it does.
    std::cerr << "invalid value \"" << common.log_level
              << "\" for flag -log-level: invalid log level\n";
    return 2;
  }
  log::init(common.log_prefix, level);
  return std::nullopt;
}

ShutdownSignals::ShutdownSignals() : signals_(ctx_, SIGINT, SIGTERM) {}

void ShutdownSignals::wait(const std::string& stopping_line) {
  signals_.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec && !stopping_line.empty()) log::info("{}", stopping_line);
  });
  ctx_.run();
}

void exit_now(int code) {
  log::logger().flush();
  std::fflush(nullptr);
  std::_Exit(code);
}

}  // namespace nsq::daemon
