// Go's path.Clean and path.Join (slash-separated, lexical): the reference builds the file
// names it logs with them ("NSQ: persisting topic/channel metadata to data/nsqd.dat").
#pragma once

#include <string>
#include <string_view>

namespace nsq::gocompat {

// path.Clean: one slash between elements, no "." elements, ".." resolved lexically, no
// trailing slash; "" becomes ".".
std::string go_path_clean(std::string_view path);

// path.Join(a, b): the non-empty parts joined by "/", then cleaned; "" when both are empty.
std::string go_path_join(std::string_view a, std::string_view b);

}  // namespace nsq::gocompat
