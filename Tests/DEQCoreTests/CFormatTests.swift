import DEQCore
import Testing

@Suite("String(cFormat:): printf-style numbers without Foundation")
struct CFormatTests {
  @Test("Conversions give C's digits, rounding and special values")
  func conversions() {
    #expect(String(cFormat: "%.3e", 1234.56) == "1.235e+03")
    #expect(String(cFormat: "%.3e", -0.000123456) == "-1.235e-04")
    #expect(String(cFormat: "%.6f", 0.1) == "0.100000")
    #expect(String(cFormat: "%.1fM", 12.25e6 / 1e6) == "12.2M")  // 12.25 ties to even
    #expect(String(cFormat: "%.2g", 0.000123) == "0.00012")
    #expect(String(cFormat: "%.0f steps/s, %.1f s left", 41.5, 2.26) == "42 steps/s, 2.3 s left")
    #expect(String(cFormat: "(%ld RoIs)", 1 << 40) == "(1099511627776 RoIs)")
    #expect(String(cFormat: "%.3e", Double.infinity) == "inf")
    #expect(String(cFormat: "%.3e", -Double.nan).hasSuffix("nan"))
    #expect(String(cFormat: "no conversions") == "no conversions")
    #expect(String(cFormat: "ρ ≥ %.2f", 0.5) == "ρ ≥ 0.50")
  }

  @Test("Output longer than the first buffer is formatted whole")
  func longOutput() {
    let text = String(cFormat: "%.100f", 1.0)
    #expect(text == "1." + String(repeating: "0", count: 100))
    let wide = String(cFormat: "%300.1f|", 2.5)
    #expect(wide.count == 301)
    #expect(wide.hasSuffix(" 2.5|"))
  }
}
