// nsqd entry point: parse options, build the object graph, run until SIGINT/SIGTERM.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/config/flag_set.hpp"
#include "common/daemon/startup.hpp"
#include "common/log/logger.hpp"
#include "nsqd/memory/heap_prefaulter.hpp"
#include "nsqd/memory/heap_tuning.hpp"
#include "nsqd/nsqd_server.hpp"
#include "nsqd/options.hpp"
#include "nsqd/tcp/tls_config.hpp"

namespace {

using nsq::nsqd::NsqdOptions;

int fail_startup(const std::string& message) {
  nsq::log::fatal("failed to instantiate nsqd - {}", message);
  return 1;
}

// The reference locks the data directory so two nsqd never share it.
nsq::util::Status lock_data_path(const std::string& data_path) {
  const std::string dir = data_path.empty() ? "." : data_path;
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return nsq::util::fail("failed to lock data-path: cannot open directory " + dir + " - " +
                           std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    auto error =
        nsq::util::fail("failed to lock data-path: cannot flock directory " + dir + " - " +
                        std::strerror(errno) + " (possibly in use by another instance of nsqd)");
    ::close(fd);
    return error;
  }
  return {};  // held (fd kept open) until the process exits
}

}  // namespace

int main(int argc, char** argv) {
  const bool heap_tuned = nsq::nsqd::tune_message_heap();  // before any thread exists
  // Maps fresh heap pages ahead of the publishers; only with the brk-grown heap set above.
  nsq::nsqd::HeapPrefaulter prefaulter;
  NsqdOptions opts;
  nsq::config::FlagSet flags("nsqd");
  nsq::nsqd::register_nsqd_flags(flags, opts);
  if (auto exit_code = nsq::daemon::parse_command_line("nsqd", flags, argc, argv, opts)) {
    return *exit_code;
  }
  // Before any listener opens: a SIGTERM while starting still shuts down gracefully.
  nsq::daemon::ShutdownSignals shutdown_signals;

  if (auto locked = lock_data_path(opts.data_path); !locked) return fail_startup(locked.error());
  if (auto invalid = nsq::nsqd::validate_options(opts); !invalid.empty()) {
    return fail_startup(invalid);
  }
  // TLS settings, as the reference's buildTLSConfig: startup fails on unreadable files.
  auto tls_context = nsq::nsqd::build_tls_context(opts);
  if (!tls_context) return fail_startup("failed to build TLS config - " + tls_context.error());
  if (!*tls_context && nsq::nsqd::tls_required_mode(opts) != nsq::nsqd::TlsRequired::kNo) {
    return fail_startup("cannot require TLS client connections without TLS key and cert");
  }
  auto client_tls_context = nsq::nsqd::build_client_tls_context(opts);
  if (!client_tls_context) {
    return fail_startup("failed to build client TLS config - " + client_tls_context.error());
  }

  // The reference's start-up banner.
  nsq::log::info("nsqd v{} (built w/gcc{})", NSQ_COMPAT_VERSION, __VERSION__);
  nsq::log::info("ID: {}", opts.node_id);
  if (heap_tuned) prefaulter.start();
  nsq::nsqd::NsqdServer server(opts);
  server.nsqd().set_tls_context(std::move(*tls_context));
  server.nsqd().set_client_tls_context(std::move(*client_tls_context));
  if (auto started = server.start(); !started) {
    // Out at once, as the reference's FATAL: unwinding `server` would close its (not yet
    // loaded) topic set and overwrite nsqd.dat with no topics at all.
    fail_startup(started.error());
    nsq::daemon::exit_now(1);
  }

  // The reference logs nothing on the signal itself: its shutdown lines follow.
  shutdown_signals.wait("");
  server.stop();
  prefaulter.stop();
  return 0;
}
