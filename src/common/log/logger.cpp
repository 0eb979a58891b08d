#include "common/log/logger.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace nsq::log {

namespace {

// Prints the level as the reference names it (spdlog's own names are lowercase and differ).
class NsqLevelFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string_view name = "INFO";
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug:
        name = "DEBUG";
        break;
      case spdlog::level::info:
        name = "INFO";
        break;
      case spdlog::level::warn:
        name = "WARNING";
        break;
      case spdlog::level::err:
        name = "ERROR";
        break;
      default:
        name = "FATAL";
        break;
    }
    dest.append(name.data(), name.data() + name.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<NsqLevelFlag>();
  }
};

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
    case Level::kFatal:
      return spdlog::level::critical;
  }
  return spdlog::level::info;
}

std::shared_ptr<spdlog::logger>& instance() {
  static std::shared_ptr<spdlog::logger> logger =
      std::make_shared<spdlog::logger>("nsq", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  return logger;
}

std::string escape_pattern(const std::string& text) {
  std::string out;
  for (char c : text) {
    out.push_back(c);
    if (c == '%') out.push_back('%');
  }
  return out;
}

}  // namespace

bool parse_level(std::string_view text, Level& out) {
  std::string s(text);
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (s == "debug") {
    out = Level::kDebug;
  } else if (s == "info") {
    out = Level::kInfo;
  } else if (s == "warn" || s == "warning") {
    out = Level::kWarn;
  } else if (s == "error") {
    out = Level::kError;
  } else if (s == "fatal") {
    out = Level::kFatal;
  } else {
    return false;
  }
  return true;
}

void init(const std::string& prefix, Level level) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<NsqLevelFlag>('*').set_pattern(escape_pattern(prefix) +
                                                     "%Y/%m/%d %H:%M:%S.%f %*: %v");
  auto& logger = instance();
  logger->set_formatter(std::move(formatter));
  logger->set_level(to_spdlog(level));
  logger->flush_on(spdlog::level::trace);
}

spdlog::logger& logger() {
  return *instance();
}

}  // namespace nsq::log
