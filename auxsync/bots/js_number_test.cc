#include "auxsync/bots/js_number.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace auxsync::bots {
namespace {

// Every expectation below is String(x) printed by node v20.

TEST(NumberToJsString, Integers) {
  EXPECT_EQ(NumberToJsString(123), "123");
  EXPECT_EQ(NumberToJsString(100), "100");
  EXPECT_EQ(NumberToJsString(2147483648.0), "2147483648");
  EXPECT_EQ(NumberToJsString(9007199254740992.0), "9007199254740992");
  EXPECT_EQ(NumberToJsString(-1.5), "-1.5");
}

TEST(NumberToJsString, Zeros) {
  EXPECT_EQ(NumberToJsString(0.0), "0");
  EXPECT_EQ(NumberToJsString(-0.0), "0");
}

TEST(NumberToJsString, ShortestRoundTripDigits) {
  EXPECT_EQ(NumberToJsString(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(NumberToJsString(0.1), "0.1");
  EXPECT_EQ(NumberToJsString(4.35), "4.35");
  EXPECT_EQ(NumberToJsString(1.0 / 3.0), "0.3333333333333333");
  EXPECT_EQ(NumberToJsString(-123.456), "-123.456");
}

TEST(NumberToJsString, LargeNumbersSwitchToExponentAt1e21) {
  EXPECT_EQ(NumberToJsString(1e20), "100000000000000000000");
  EXPECT_EQ(NumberToJsString(123456789012345680000.0), "123456789012345680000");
  EXPECT_EQ(NumberToJsString(999999999999999900000.0), "999999999999999900000");
  EXPECT_EQ(NumberToJsString(1e21), "1e+21");
  EXPECT_EQ(NumberToJsString(1e100), "1e+100");
  EXPECT_EQ(NumberToJsString(1.5e300), "1.5e+300");
  EXPECT_EQ(NumberToJsString(1.7976931348623157e308),
            "1.7976931348623157e+308");
}

TEST(NumberToJsString, SmallNumbersSwitchToExponentBelow1e6) {
  EXPECT_EQ(NumberToJsString(1e-6), "0.000001");
  EXPECT_EQ(NumberToJsString(0.000001234), "0.000001234");
  EXPECT_EQ(NumberToJsString(1.2e-6), "0.0000012");
  EXPECT_EQ(NumberToJsString(1e-7), "1e-7");
  EXPECT_EQ(NumberToJsString(-1e-7), "-1e-7");
  EXPECT_EQ(NumberToJsString(2e-7), "2e-7");
  EXPECT_EQ(NumberToJsString(123e-20), "1.23e-18");
  EXPECT_EQ(NumberToJsString(5e-324), "5e-324");
}

TEST(NumberToJsString, NonFinite) {
  EXPECT_EQ(NumberToJsString(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(NumberToJsString(INFINITY), "Infinity");
  EXPECT_EQ(NumberToJsString(-INFINITY), "-Infinity");
}

TEST(AppendJsNumber, Appends) {
  std::string out = "x=";
  AppendJsNumber(out, 1e21);
  EXPECT_EQ(out, "x=1e+21");
}

}  // namespace
}  // namespace auxsync::bots
