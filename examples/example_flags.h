// Command-line plumbing shared by the Kafka examples (write_into_kafka, read_from_kafka), so
// their main() reads like the Flink programs they mirror.
//
// An example declares its own flags on a CLI11 app; ParseExampleArgs parses them and hands
// everything else to StreamExecutionEnvironment::FromArgs, so the runtime's standard flags
// (--checkpoint-interval, --checkpoint-dir, --fresh, --log-level, ...) work as in every sluice
// job. --help lists both. A flag neither knows, or a bad value, prints the error and exits 2.
#pragma once

#include <sluice/connectors/kafka/properties.h>
#include <sluice/sluice.h>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice_examples {

[[noreturn]] inline void ExitWithUsageError(const std::string& program,
                                            const std::string& message) {
  std::fprintf(stderr, "%s: %s\nRun %s --help for the flags.\n", program.c_str(), message.c_str(),
               program.c_str());
  std::exit(2);
}

/// SLUICE_BOOTSTRAP_SERVERS, or the PLAINTEXT listener of scripts/kafka.
inline std::string DefaultBootstrapServers() {
  const char* from_env = std::getenv("SLUICE_BOOTSTRAP_SERVERS");
  return from_env != nullptr && *from_env != '\0' ? from_env : "127.0.0.1:19092";
}

/// A CLI11 check for durations as the runtime writes them ("3s", "200ms", "1m").
inline std::string CheckDuration(const std::string& text) {
  sluice::Result<std::chrono::milliseconds> parsed = sluice::ParseDuration(text);
  if (!parsed.ok()) return parsed.status().message();
  return parsed->count() > 0 ? "" : "the duration must be greater than 0";
}

/// The pairs read by --property-file, in file order (filled while the flags are parsed).
inline std::vector<std::string>& PropertyFilePairs() {
  static std::vector<std::string> pairs;
  return pairs;
}

/// Adds --property KEY=VALUE (repeatable; one pair per flag), passed through unchanged, and
/// --property-file PATH (client properties from a file, as Flink users keep them, so that
/// passwords stay off the command line; a --property overrides the file's value).
inline CLI::Option* AddPropertyFlag(CLI::App& app, std::vector<std::string>& pairs) {
  app.add_option_function<std::string>(
         "--property-file",
         [](const std::string& path) {
           sluice::Result<sluice::kafka::Properties> loaded = sluice::kafka::LoadProperties(path);
           if (!loaded.ok())
             throw CLI::ValidationError("--property-file", loaded.status().message());
           for (const auto& [key, value] : *loaded) {
             std::string pair = key;
             pair += '=';
             pair += value;
             PropertyFilePairs().push_back(std::move(pair));
           }
         },
         "Kafka client properties from a file of KEY=VALUE lines (e.g. sasl.password; mode 0600)")
      ->type_name("PATH");
  return app
      .add_option("--property", pairs,
                  "a Kafka client property KEY=VALUE, passed through unchanged (repeatable), e.g. "
                  "--property security.protocol=SASL_PLAINTEXT")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false)
      ->check([](const std::string& pair) -> std::string {
        size_t eq = pair.find('=');
        return eq == std::string::npos || eq == 0 ? "expected KEY=VALUE, got '" + pair + "'" : "";
      });
}

/// `base` with the --property-file's properties and then every --property pair added (a later
/// pair for a key wins).
inline sluice::kafka::Properties WithProperties(sluice::kafka::Properties base,
                                                const std::vector<std::string>& pairs) {
  const std::vector<std::string>* lists[] = {&PropertyFilePairs(), &pairs};
  for (const std::vector<std::string>* list : lists) {
    for (const std::string& pair : *list) {
      size_t eq = pair.find('=');
      base[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
  }
  return base;
}

/// Parses the example's flags (declared on `app`) and passes the rest to
/// StreamExecutionEnvironment::FromArgs. Exits 0 after --help, 2 on any flag error.
inline std::unique_ptr<sluice::StreamExecutionEnvironment> ParseExampleArgs(CLI::App& app, int argc,
                                                                            char** argv) {
  const std::string program = argc > 0 ? argv[0] : "example";
  // Anything the example does not declare is the runtime's to judge.
  app.allow_extras();
  // Our own --help, so that the runtime's standard flags are listed too.
  app.set_help_flag();
  bool help = false;
  app.add_flag("-h,--help", help, "print this help and exit");
  app.footer(
      "The runtime's standard flags below work too; this program reads no other --key=value.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    ExitWithUsageError(program, error.what());
  }
  if (help) {
    std::cout << app.help() << "\n" << std::flush;
    std::string help_flag = "--help";
    char* help_args[] = {argv[0], help_flag.data()};
    sluice::StreamExecutionEnvironment::FromArgs(2,
                                                 help_args);  // prints the standard flags, exits 0
  }

  std::vector<std::string> rest = app.remaining();
  std::vector<char*> runtime_args{argv[0]};
  for (std::string& arg : rest) runtime_args.push_back(arg.data());
  auto env = sluice::StreamExecutionEnvironment::FromArgs(static_cast<int>(runtime_args.size()),
                                                          runtime_args.data());

  // FromArgs keeps every non-standard flag as a job parameter; these examples read none, so
  // each one is a typo. Suggest among the example's flags and the standard ones.
  static const std::vector<std::string> kStandardFlags = {"parallelism",
                                                          "checkpoint-interval",
                                                          "checkpoint-timeout",
                                                          "checkpoint-dir",
                                                          "savepoint-timeout",
                                                          "fresh",
                                                          "from-savepoint",
                                                          "from-checkpoint",
                                                          "allow-non-restored-state",
                                                          "restart-attempts",
                                                          "log-level",
                                                          "state.backend",
                                                          "state.changelog",
                                                          "security.kerberos.login.keytab",
                                                          "security.kerberos.login.principal",
                                                          "help"};
  std::vector<std::string> known = kStandardFlags;
  for (const CLI::Option* option : app.get_options()) {
    for (const std::string& name : option->get_lnames()) known.push_back(name);
  }
  std::vector<std::string_view> known_views(known.begin(), known.end());
  if (sluice::Status unknown = env->GetParameters().CheckAllRequested(known_views); !unknown.ok()) {
    ExitWithUsageError(program, unknown.message());
  }
  return env;
}

/// 0 when the job finished or was cancelled (SIGINT), 2 when it was refused at start for its
/// configuration (a bad --property, say), 1 when it failed while running.
inline int ExitCode(const std::string& program, const sluice::JobExecutionResult& result) {
  if (result.ok()) return 0;
  std::fprintf(stderr, "%s: %s\n", program.c_str(), result.failure.ToString().c_str());
  return result.failure.code() == sluice::StatusCode::kInvalidArgument ? 2 : 1;
}

}  // namespace sluice_examples
