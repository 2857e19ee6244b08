#pragma once
// The command line (SPEC §8): `tollgate init|serve [options]`, every option also read from
// TOLLGATE_<OPTION>. Returns the process exit code.

namespace tollgate::cli {

int Main(int argc, char** argv);

}  // namespace tollgate::cli
