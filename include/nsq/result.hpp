// A value or the text of an error, for functions that used to fill a `std::string& error`
// out-parameter. The texts are compared byte for byte with the reference's (Go error strings),
// so the error is a plain string, not an error_code. Public (include/nsq, standard library
// only): the protocol layer returns it too, and src/common/util/result.hpp forwards here.
//
// Our own type rather than a library's: std::expected is C++23 (GCC 12 has it only under
// -std=c++2b), and boost::system::result (Boost 1.81) is not [[nodiscard]] and needs an
// overload of throw_exception_from_error for a string error. Twenty lines are cheaper than
// either workaround; [[nodiscard]] on the class makes every ignored failure a build error.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace nsq::util {

// The error side, a distinct type so that Result<std::string> knows which one it holds.
struct Error {
  std::string text;
};

inline Error fail(std::string text) {
  return Error{std::move(text)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor): return x;
  Result(Error e) : v_(std::move(e)) {}      // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const std::string& error() const {
    assert(!ok());
    return std::get<1>(v_).text;
  }

 private:
  std::variant<T, Error> v_;
};

// Success or an error text.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e)
      : error_(std::move(e.text)), failed_(true) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string& error() const {
    assert(failed_);
    return error_;
  }

 private:
  std::string error_;
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace nsq::util
