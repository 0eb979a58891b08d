#include "nsqd/nsqd_server.hpp"

#include <chrono>
#include <cstdlib>
#include <future>

#include "common/log/logger.hpp"

namespace nsq::nsqd {

namespace {
// The reference scans every 100 ms; we check every channel at this resolution.
constexpr auto kTimerResolution = std::chrono::milliseconds(100);
}  // namespace

NsqdServer::NsqdServer(NsqdOptions opts)
    : nsqd_(std::move(opts)),
      pool_(static_cast<size_t>(nsqd_.options().io_threads)),
      tcp_(nsqd_, pool_),
      timer_loop_(pool_.at(0)) {}

NsqdServer::~NsqdServer() {
  stop();
}

bool NsqdServer::start(std::string& error) {
  if (!tcp_.listen(nsqd_.options().tcp_address, error)) return false;
  // After binding, as the reference: recreate the topics/channels of nsqd.dat, rewrite it.
  // A bad nsqd.dat is fatal with the reference's own words (not "failed to instantiate").
  if (std::string md_error; !nsqd_.load_metadata(md_error)) {
    log::fatal("failed to load metadata - {}", md_error);
    std::exit(1);
  }
  // The reference rewrites the file right after loading it.
  if (std::string md_error; !nsqd_.persist_metadata(md_error)) {
    log::fatal("failed to persist metadata - {}", md_error);
    std::exit(1);
  }
  pool_.start();
  tcp_.start_accepting();
  schedule_timers();
  started_ = true;
  return true;
}

void NsqdServer::schedule_timers() {
  timer_loop_.expires_after(kTimerResolution);
  timer_loop_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    nsqd_.process_timers(steady_now_ns());
    schedule_timers();
  });
}

void NsqdServer::stop() {
  if (stopped_ || !started_) return;
  stopped_ = true;
  tcp_.stop();
  // Let the loops run the posted closes, then cancel the timer loop on its own thread.
  std::promise<void> done;
  boost::asio::post(pool_.at(0), [this, &done] {
    timer_loop_.cancel();
    done.set_value();
  });
  done.get_future().wait();
  pool_.stop();
  nsqd_.close_all();
  log::info("NSQ: bye");
}

}  // namespace nsq::nsqd
