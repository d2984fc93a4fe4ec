"""Where the two pinned stacks' APIs differ, in one place (see constraints/).

TFX 1.16 runs on protobuf 3.20 and TFX 1.21 on protobuf 6; the rest of the code calls these
functions and runs unchanged on both. TFMA's config protos need no adapter: import them from
`tensorflow_model_analysis.proto.config_pb2`, which both TFMA 0.47 and 0.52 provide (0.52 no
longer re-exports them as `tfma.SlicingSpec`, `tfma.MetricConfig`, ...).
"""

import functools
import inspect


@functools.cache
def _print_defaults_option() -> str:
    from google.protobuf import json_format

    # protobuf 5.26 renamed the option and removed the old name.
    parameters = inspect.signature(json_format.MessageToDict).parameters
    if "always_print_fields_with_no_presence" in parameters:
        return "always_print_fields_with_no_presence"
    return "including_default_value_fields"


def message_to_dict(message) -> dict:
    """A proto message as a dict the way TF Serving's REST API writes it.

    Fields at their default value are printed and field names stay as in the .proto file,
    on protobuf 3 and 6 alike.

    Args:
      message: any protobuf message.

    Returns:
      The message as a JSON-ready dict.
    """
    from google.protobuf import json_format

    options = {_print_defaults_option(): True, "preserving_proto_field_name": True}
    return json_format.MessageToDict(message, **options)
