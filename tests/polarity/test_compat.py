"""The stack adapter: the same JSON from protobuf 3 (TFX 1.16) and protobuf 6 (TFX 1.21)."""

from google.protobuf import struct_pb2, wrappers_pb2
from tensorflow_serving.apis import get_model_status_pb2

from polarity import compat


def test_message_to_dict_prints_fields_at_their_defaults_with_proto_names():
    response = get_model_status_pb2.GetModelStatusResponse()
    status = response.model_version_status.add()
    status.version = 3
    status.status.SetInParent()
    assert compat.message_to_dict(response) == {
        "model_version_status": [
            {"version": "3", "state": "UNKNOWN", "status": {"error_code": "OK", "error_message": ""}}
        ]
    }


def test_message_to_dict_of_an_empty_message_is_its_defaults():
    assert compat.message_to_dict(wrappers_pb2.Int64Value()) == "0"
    assert compat.message_to_dict(struct_pb2.ListValue()) == []
