// Logging in NSQ's line format, over spdlog:
//   <prefix><YYYY/MM/DD HH:MM:SS.micro> <LEVEL>: <message>
// e.g. "[nsqd] 2026/11/24 14:03:50.123456 INFO: TCP: listening on 127.0.0.1:4150".
// Levels and their names are the reference's: DEBUG, INFO, WARNING, ERROR, FATAL.
// Thread-safe; init() once at start-up before other threads log.
#pragma once

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

namespace nsq::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kFatal = 4 };

// Accepts the reference's spellings (debug, info, warn, warning, error, fatal; any case).
bool parse_level(std::string_view text, Level& out);
void init(const std::string& prefix, Level level);
spdlog::logger& logger();

template <typename... Args>
void debug(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  logger().debug(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void info(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  logger().info(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void warn(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  logger().warn(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void error(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  logger().error(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void fatal(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  logger().critical(fmt, std::forward<Args>(args)...);
}

}  // namespace nsq::log
