// Router: request-path matching with the behaviour of julienschmidt/httprouter v1.3.0 (what
// every NSQ daemon routes with), so clients and tools see the same answers for odd paths:
//   * exact match of static segments and `:name` segments (one non-empty path segment);
//   * a path that only differs by a trailing slash -> redirect (301 for GET, else 307);
//   * a path that matches after cleaning (`//`, `.`, `..`) and case-folding -> same redirects;
//   * OPTIONS on a known path -> 200 with `Allow`; another method of a known path -> 405 with
//     `Allow` (methods sorted, OPTIONS included); anything else -> 404.
// Redirect and Allow decisions are made per method, as httprouter's per-method trees do.
//
// Built once at start-up, then read-only: match() is thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nsq::http {

using RouteParams = std::vector<std::pair<std::string, std::string>>;

struct RouteMatch {
  enum class Kind { kFound, kRedirect, kOptions, kMethodNotAllowed, kNotFound };
  Kind kind = Kind::kNotFound;
  size_t route = 0;      // kFound: the index add() returned
  RouteParams params;    // kFound: `:name` values
  std::string location;  // kRedirect: the new path (without query)
  unsigned redirect_status = 0;
  std::string allow;  // kOptions / kMethodNotAllowed: "GET, OPTIONS, PUT"
};

class Router {
 public:
  // Registers `method pattern` and returns its index. Patterns are absolute paths whose
  // segments are literals or `:name`.
  size_t add(std::string method, std::string_view pattern);

  // `path` is the decoded request path.
  RouteMatch match(std::string_view method, std::string_view path) const;

  const std::string& method_of(size_t route) const { return routes_[route].method; }

 private:
  struct Segment {
    std::string text;
    bool param = false;
  };
  struct Route {
    std::string method;
    std::vector<Segment> segments;
    bool trailing_slash = false;
  };

  static bool match_route(const Route& r, std::string_view path, bool fold_case,
                          RouteParams* params, std::string* canonical);
  std::string allowed(std::string_view path, std::string_view skip_method) const;

  std::vector<Route> routes_;
};

// Go's path.Clean as httprouter's CleanPath applies it: always rooted, no `//`, `.`, `..`, and
// a trailing slash kept when the input had one.
std::string clean_path(std::string_view path);

}  // namespace nsq::http
