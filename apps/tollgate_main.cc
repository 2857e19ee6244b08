#include "cli/cli.h"

int main(int argc, char** argv) { return tollgate::cli::Main(argc, argv); }
