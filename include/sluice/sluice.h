// The umbrella header: everything in sluice's public API.
#pragma once

#include <sluice/status.h>
#include <sluice/version.h>
