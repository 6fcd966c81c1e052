// The umbrella header: everything in sluice's public API.
#pragma once

#include <sluice/api/data_stream.h>
#include <sluice/api/duration.h>
#include <sluice/api/functions.h>
#include <sluice/api/job.h>
#include <sluice/api/key_hash.h>
#include <sluice/api/metrics.h>
#include <sluice/api/parameter_tool.h>
#include <sluice/api/restart_strategy.h>
#include <sluice/api/runtime_context.h>
#include <sluice/api/sink.h>
#include <sluice/api/source.h>
#include <sluice/api/source_function.h>
#include <sluice/api/stream_execution_environment.h>
#include <sluice/api/strong_id.h>
#include <sluice/api/time.h>
#include <sluice/api/watermark_strategy.h>
#include <sluice/checkpoint/checkpoint_config.h>
#include <sluice/checkpoint/checkpoint_participant.h>
#include <sluice/state/state.h>
#include <sluice/state/state_descriptor.h>
#include <sluice/state/type_serializer.h>
#include <sluice/status.h>
#include <sluice/version.h>
