// ECMAScript number <-> string conversions.

#ifndef AUXSYNC_BOTS_JS_NUMBER_H_
#define AUXSYNC_BOTS_JS_NUMBER_H_

#include <string>

namespace auxsync::bots {

// Formats `d` exactly as JavaScript's Number.prototype.toString() does:
// shortest round-trip digits, "-0" as "0", exponent form at 1e21 and below
// 1e-6, and "NaN", "Infinity", "-Infinity".
std::string NumberToJsString(double d);

// Appends NumberToJsString(d) to `out`.
void AppendJsNumber(std::string& out, double d);

}  // namespace auxsync::bots

#endif  // AUXSYNC_BOTS_JS_NUMBER_H_
