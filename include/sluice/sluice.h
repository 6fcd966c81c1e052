// The umbrella header: the DataStream API, as `import org.apache.flink.streaming.api...` gives
// a Flink job: the environment, streams, functions, sources and sinks, state and serializers,
// checkpoint configuration, Status and the version. Connectors are not included: each has its
// own headers (<sluice/connectors/kafka/kafka_source.h>, ...), so a job that does not use
// Kafka does not compile its headers. Test helpers are under <sluice/testing/>.
//
// Headers under detail/ directories are included by the API headers whose templates need
// them; they are not API and may change in any release. Nothing here includes <iostream>.
#pragma once

#include <sluice/api/broadcast_connected_stream.h>
#include <sluice/api/broadcast_functions.h>
#include <sluice/api/co_functions.h>
#include <sluice/api/co_grouped_streams.h>
#include <sluice/api/connected_streams.h>
#include <sluice/api/data_stream.h>
#include <sluice/api/duration.h>
#include <sluice/api/functions.h>
#include <sluice/api/interval_join.h>
#include <sluice/api/job.h>
#include <sluice/api/join_functions.h>
#include <sluice/api/joined_streams.h>
#include <sluice/api/key_hash.h>
#include <sluice/api/metrics.h>
#include <sluice/api/output_tag.h>
#include <sluice/api/parameter_tool.h>
#include <sluice/api/restart_strategy.h>
#include <sluice/api/runtime_context.h>
#include <sluice/api/sink.h>
#include <sluice/api/source.h>
#include <sluice/api/source_function.h>
#include <sluice/api/state_participant_provider.h>
#include <sluice/api/stream_execution_environment.h>
#include <sluice/api/strong_id.h>
#include <sluice/api/time.h>
#include <sluice/api/watermark_strategy.h>
#include <sluice/api/windowed_stream.h>
#include <sluice/checkpoint/checkpoint_config.h>
#include <sluice/checkpoint/checkpoint_participant.h>
#include <sluice/state/state.h>
#include <sluice/state/state_descriptor.h>
#include <sluice/state/type_serializer.h>
#include <sluice/status.h>
#include <sluice/version.h>
