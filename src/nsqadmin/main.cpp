// nsqadmin entry point: parse options, check them as the reference does, serve HTTP until
// SIGINT/SIGTERM.
#include "common/config/flag_set.hpp"
#include "common/daemon/startup.hpp"
#include "common/http/server.hpp"
#include "common/log/logger.hpp"
#include "common/net/io_pool.hpp"
#include "nsqadmin/admin_service.hpp"
#include "nsqadmin/options.hpp"
#include "nsqadmin/upstream_tls.hpp"

int main(int argc, char** argv) {
  nsq::nsqadmin::AdminOptions opts;
  nsq::config::FlagSet flags("nsqadmin");
  nsq::nsqadmin::register_admin_flags(flags, opts);
  if (auto exit_code = nsq::daemon::parse_command_line("nsqadmin", flags, argc, argv, opts)) {
    return *exit_code;
  }
  // Before any listener opens: a SIGTERM while starting still shuts down gracefully.
  nsq::daemon::ShutdownSignals shutdown_signals;

  if (auto invalid = nsq::nsqadmin::validate_admin_options(opts); !invalid.empty()) {
    nsq::log::fatal("failed to instantiate nsqadmin - {}", invalid);
    return 1;
  }
  auto upstream_tls = nsq::nsqadmin::build_upstream_tls_context(opts);
  if (!upstream_tls) {
    nsq::log::fatal("failed to instantiate nsqadmin - {}", upstream_tls.error());
    return 1;
  }
  opts.base_path = nsq::nsqadmin::normalize_base_path(opts.base_path);
  nsq::log::info("nsqadmin v{} (built w/gcc{})", NSQ_COMPAT_VERSION, __VERSION__);

  nsq::nsqadmin::AdminService service(opts, std::move(*upstream_tls));
  nsq::net::IoPool pool(2);
  nsq::http::ServerOptions sopts;
  sopts.name = "HTTP";
  nsq::http::Server server(pool, service, sopts);
  if (auto listening = server.listen(opts.http_address); !listening) {
    nsq::log::fatal("failed to instantiate nsqadmin - {}", listening.error());
    return 1;
  }
  pool.start();
  server.start_accepting();

  shutdown_signals.wait("NSQADMIN: stopping");
  server.stop();
  pool.stop();
  return 0;
}
