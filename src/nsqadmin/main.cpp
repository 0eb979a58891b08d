// nsqadmin entry point: parse options, check them as the reference does, serve HTTP until
// SIGINT/SIGTERM.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>

#include "common/config/flag_set.hpp"
#include "common/http/server.hpp"
#include "common/log/logger.hpp"
#include "common/net/io_pool.hpp"
#include "nsqadmin/admin_service.hpp"
#include "nsqadmin/options.hpp"

int main(int argc, char** argv) {
  nsq::nsqadmin::AdminOptions opts;
  nsq::config::FlagSet flags("nsqadmin");
  nsq::nsqadmin::register_admin_flags(flags, opts);
  const auto parsed = flags.parse(argc, argv);
  if (parsed.action == nsq::config::ParseResult::Action::kExit) return parsed.exit_code;

  if (opts.show_version) {
    std::cout << "nsqadmin v" << NSQ_COMPAT_VERSION << " (built w/gcc" << __VERSION__ << ")\n";
    return 0;
  }

  nsq::log::Level level;
  if (!nsq::log::parse_level(opts.log_level, level)) {
    std::cerr << "invalid value \"" << opts.log_level
              << "\" for flag -log-level: invalid log level\n";
    return 2;
  }
  nsq::log::init(opts.log_prefix, level);

  if (auto invalid = nsq::nsqadmin::validate_admin_options(opts); !invalid.empty()) {
    nsq::log::fatal("failed to instantiate nsqadmin - {}", invalid);
    return 1;
  }
  if (!opts.http_client_tls_cert.empty() || !opts.http_client_tls_root_ca_file.empty()) {
    nsq::log::fatal(
        "failed to instantiate nsqadmin - HTTPS upstreams are not supported by this "
        "build yet");
    return 1;
  }
  opts.base_path = nsq::nsqadmin::normalize_base_path(opts.base_path);
  nsq::log::info("nsqadmin v{} (built w/gcc{})", NSQ_COMPAT_VERSION, __VERSION__);

  nsq::nsqadmin::AdminService service(opts);
  nsq::net::IoPool pool(2);
  nsq::http::ServerOptions sopts;
  sopts.name = "HTTP";
  nsq::http::Server server(pool, service, sopts);
  std::string error;
  if (!server.listen(opts.http_address, error)) {
    nsq::log::fatal("failed to instantiate nsqadmin - {}", error);
    return 1;
  }
  pool.start();
  server.start_accepting();

  boost::asio::io_context signals_ctx;
  boost::asio::signal_set signals(signals_ctx, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) nsq::log::info("NSQADMIN: stopping");
  });
  signals_ctx.run();
  server.stop();
  pool.stop();
  return 0;
}
