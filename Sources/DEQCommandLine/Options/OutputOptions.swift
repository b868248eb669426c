import ArgumentParser

/// How results are written.
enum OutputFormat: String, CaseIterable, ExpressibleByArgument {
  case table
  case csv
  case json
}

/// The output options shared by the subcommands that report data.
struct OutputOptions: ParsableArguments {
  @Option(help: "Data format: table (readable, long traces thinned), csv or json (complete).")
  var format: OutputFormat = .table

  @Option(
    help: ArgumentHelp("Write the data to this file instead of standard output.", valueName: "file")
  )
  var output: String?

  @Flag(help: "No progress on standard error.")
  var quiet = false
}
