// nsqd entry point: parse options, build the object graph, run until SIGINT/SIGTERM.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>

#include "common/config/flag_set.hpp"
#include "common/log/logger.hpp"
#include "nsqd/nsqd_server.hpp"
#include "nsqd/options.hpp"
#include "nsqd/tls_config.hpp"

namespace {

using nsq::nsqd::NsqdOptions;

int fail_startup(const std::string& message) {
  nsq::log::fatal("failed to instantiate nsqd - {}", message);
  return 1;
}

// The reference locks the data directory so two nsqd never share it.
bool lock_data_path(const std::string& data_path, std::string& error) {
  const std::string dir = data_path.empty() ? "." : data_path;
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    error = "failed to lock data-path: cannot open directory " + dir + " - " + std::strerror(errno);
    return false;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    error = "failed to lock data-path: cannot flock directory " + dir + " - " +
            std::strerror(errno) + " (possibly in use by another instance of nsqd)";
    ::close(fd);
    return false;
  }
  return true;  // held (fd kept open) until the process exits
}

}  // namespace

int main(int argc, char** argv) {
  NsqdOptions opts;
  nsq::config::FlagSet flags("nsqd");
  nsq::nsqd::register_nsqd_flags(flags, opts);
  const auto parsed = flags.parse(argc, argv);
  if (parsed.action == nsq::config::ParseResult::Action::kExit) return parsed.exit_code;

  if (opts.show_version) {
    std::cout << "nsqd v" << NSQ_COMPAT_VERSION << " (built w/gcc" << __VERSION__ << ")\n";
    return 0;
  }

  nsq::log::Level level;
  if (!nsq::log::parse_level(opts.log_level, level)) {
    std::cerr << "invalid value \"" << opts.log_level
              << "\" for flag -log-level: invalid log level\n";
    return 2;
  }
  nsq::log::init(opts.log_prefix, level);

  std::string error;
  if (!lock_data_path(opts.data_path, error)) return fail_startup(error);
  if (auto invalid = nsq::nsqd::validate_options(opts); !invalid.empty()) {
    return fail_startup(invalid);
  }
  // TLS settings, as the reference's buildTLSConfig: startup fails on unreadable files.
  auto tls_context = nsq::nsqd::build_tls_context(opts, error);
  if (!error.empty()) return fail_startup("failed to build TLS config - " + error);
  if (!tls_context && nsq::nsqd::tls_required_mode(opts) != nsq::nsqd::TlsRequired::kNo) {
    return fail_startup("cannot require TLS client connections without TLS key and cert");
  }

  nsq::nsqd::NsqdServer server(opts);
  server.nsqd().set_tls_context(std::move(tls_context));
  if (!server.start(error)) return fail_startup(error);

  boost::asio::io_context signals_ctx;
  boost::asio::signal_set signals(signals_ctx, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (!ec) nsq::log::info("NSQ: received signal {}, shutting down", signo);
  });
  signals_ctx.run();
  server.stop();
  return 0;
}
