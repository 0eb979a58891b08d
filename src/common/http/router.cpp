#include "common/http/router.hpp"

#include <algorithm>
#include <boost/beast/core/string.hpp>

namespace nsq::http {

namespace {

std::vector<std::string_view> split_segments(std::string_view path, bool& trailing_slash) {
  std::vector<std::string_view> out;
  trailing_slash = path.size() > 1 && path.back() == '/';
  if (path.empty() || path.front() != '/') return out;
  std::string_view rest = path.substr(1);
  if (trailing_slash) rest.remove_suffix(1);
  if (rest.empty() && !trailing_slash) {
    out.emplace_back();  // "/" is one empty segment
    return out;
  }
  while (true) {
    const size_t slash = rest.find('/');
    out.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return out;
}

}  // namespace

size_t Router::add(std::string method, std::string_view pattern) {
  Route r;
  r.method = std::move(method);
  bool trailing = false;
  for (std::string_view seg : split_segments(pattern, trailing)) {
    Segment s;
    s.param = !seg.empty() && seg.front() == ':';
    s.text = std::string(s.param ? seg.substr(1) : seg);
    r.segments.push_back(std::move(s));
  }
  r.trailing_slash = trailing;
  routes_.push_back(std::move(r));
  return routes_.size() - 1;
}

bool Router::match_route(const Route& r, std::string_view path, bool fold_case, RouteParams* params,
                         std::string* canonical) {
  bool trailing = false;
  const auto segs = split_segments(path, trailing);
  if (trailing != r.trailing_slash || segs.size() != r.segments.size()) return false;
  std::string canon;
  for (size_t i = 0; i < segs.size(); ++i) {
    const Segment& s = r.segments[i];
    if (s.param) {
      if (segs[i].empty()) return false;
    } else if (fold_case ? !boost::beast::iequals(s.text, segs[i]) : s.text != segs[i]) {
      return false;
    }
  }
  for (size_t i = 0; i < segs.size(); ++i) {
    const Segment& s = r.segments[i];
    if (s.param && params != nullptr) params->emplace_back(s.text, std::string(segs[i]));
    if (canonical != nullptr) {
      canon.push_back('/');
      canon.append(s.param ? std::string(segs[i]) : s.text);
    }
  }
  if (canonical != nullptr) {
    if (canon.empty()) canon.push_back('/');
    if (r.trailing_slash) canon.push_back('/');
    *canonical = std::move(canon);
  }
  return true;
}

std::string Router::allowed(std::string_view path, std::string_view skip_method) const {
  std::vector<std::string> methods;
  for (const Route& r : routes_) {
    if (r.method == skip_method || r.method == "OPTIONS") continue;
    if (std::find(methods.begin(), methods.end(), r.method) != methods.end()) continue;
    if (match_route(r, path, false, nullptr, nullptr)) methods.push_back(r.method);
  }
  if (methods.empty()) return "";
  methods.emplace_back("OPTIONS");
  std::sort(methods.begin(), methods.end());
  std::string out;
  for (const auto& m : methods) {
    if (!out.empty()) out += ", ";
    out += m;
  }
  return out;
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
  RouteMatch m;
  bool method_known = false;
  for (size_t i = 0; i < routes_.size(); ++i) {
    const Route& r = routes_[i];
    if (r.method != method) continue;
    method_known = true;
    if (match_route(r, path, false, &m.params, nullptr)) {
      m.kind = RouteMatch::Kind::kFound;
      m.route = i;
      return m;
    }
    m.params.clear();
  }
  if (method_known && method != "CONNECT" && path != "/") {
    m.redirect_status = method == "GET" ? 301 : 307;
    // Trailing-slash recommendation: the same path with the slash toggled exists.
    std::string toggled(path);
    if (toggled.size() > 1 && toggled.back() == '/') {
      toggled.pop_back();
    } else {
      toggled.push_back('/');
    }
    for (const Route& r : routes_) {
      if (r.method == method && match_route(r, toggled, false, nullptr, nullptr)) {
        m.kind = RouteMatch::Kind::kRedirect;
        m.location = toggled;
        return m;
      }
    }
    // Fixed path: cleaned and case-insensitive, trailing slash either way.
    const std::string cleaned = clean_path(path);
    std::string cleaned_toggled = cleaned;
    if (cleaned_toggled.size() > 1 && cleaned_toggled.back() == '/') {
      cleaned_toggled.pop_back();
    } else {
      cleaned_toggled.push_back('/');
    }
    for (const std::string& candidate : {cleaned, cleaned_toggled}) {
      for (const Route& r : routes_) {
        std::string canonical;
        if (r.method == method && match_route(r, candidate, true, nullptr, &canonical)) {
          m.kind = RouteMatch::Kind::kRedirect;
          m.location = std::move(canonical);
          return m;
        }
      }
    }
  }
  if (method == "OPTIONS") {
    m.allow = allowed(path, "OPTIONS");
    if (!m.allow.empty()) {
      m.kind = RouteMatch::Kind::kOptions;
      return m;
    }
  } else {
    m.allow = allowed(path, method);
    if (!m.allow.empty()) {
      m.kind = RouteMatch::Kind::kMethodNotAllowed;
      return m;
    }
  }
  m.kind = RouteMatch::Kind::kNotFound;
  return m;
}

std::string clean_path(std::string_view p) {
  if (p.empty()) return "/";
  const bool trailing = p.size() > 1 && p.back() == '/';
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < p.size()) {
    while (i < p.size() && p[i] == '/') ++i;
    const size_t start = i;
    while (i < p.size() && p[i] != '/') ++i;
    std::string_view part = p.substr(start, i - start);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  std::string out;
  for (auto part : parts) {
    out.push_back('/');
    out.append(part);
  }
  if (out.empty()) return "/";
  if (trailing) out.push_back('/');
  return out;
}

}  // namespace nsq::http
