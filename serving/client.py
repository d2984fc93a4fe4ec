"""Small clients for the served model: REST (either server) and gRPC (TF Serving).

`RestClient` speaks TF Serving's REST API, so it works against `polarity serve`
and against the tensorflow/serving image on port 8501; `GrpcClient` uses
tensorflow-serving-api against TF Serving's gRPC port 8500.
"""

import dataclasses
import json
import urllib.error
import urllib.request

from components import features
from polarity.config import ServingConfig

DEFAULT_REST_URL = "http://127.0.0.1:8501"
DEFAULT_GRPC_TARGET = "127.0.0.1:8500"
DEFAULT_MODEL = ServingConfig().model_name


class ServingError(RuntimeError):
    """The server answered with an error (or could not be reached)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message if status is None else f"HTTP {status}: {message}")
        self.status = status
        self.message = message


@dataclasses.dataclass(frozen=True)
class Prediction:
    """One review's score: the positive-class probability and the predicted label."""

    probability: float
    label: int


def _model_path(model: str, version: int | None) -> str:
    return f"/v1/models/{model}" + (f"/versions/{version}" if version is not None else "")


class RestClient:
    """TF Serving REST client (stdlib only)."""

    def __init__(
        self, url: str = DEFAULT_REST_URL, model: str = DEFAULT_MODEL, token=None, timeout: float = 30
    ):
        self.url = url.rstrip("/")
        self.model = model
        self.token = token
        self.timeout = timeout

    def _call(self, path: str, body: dict | None = None) -> dict:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            payload = error.read()
            try:
                message = json.loads(payload)["error"]
            except (ValueError, KeyError, TypeError):
                message = payload.decode("utf-8", errors="replace")
            raise ServingError(message, error.code) from None
        except urllib.error.URLError as error:
            raise ServingError(f"cannot reach {self.url}: {error.reason}") from None

    def status(self, version: int | None = None) -> dict:
        return self._call(_model_path(self.model, version))

    def metadata(self, version: int | None = None) -> dict:
        return self._call(_model_path(self.model, version) + "/metadata")

    def predict(self, body: dict, version: int | None = None) -> dict:
        """A raw :predict call: `body` as TF Serving's REST API documents it."""
        return self._call(_model_path(self.model, version) + ":predict", body)

    def classify(self, body: dict, version: int | None = None) -> dict:
        return self._call(_model_path(self.model, version) + ":classify", body)

    def predict_texts(self, texts: list, version: int | None = None) -> list:
        """Scores raw reviews with the `predict_text` signature."""
        body = {"signature_name": features.PREDICT_TEXT_SIGNATURE, "instances": list(texts)}
        rows = self.predict(body, version)["predictions"]
        return [
            Prediction(float(r[features.PROBABILITY_KEY]), int(r[features.PREDICTED_LABEL_KEY])) for r in rows
        ]


class GrpcClient:
    """TF Serving gRPC client (PredictionService.Predict on the `predict_text` signature)."""

    def __init__(self, target: str = DEFAULT_GRPC_TARGET, model: str = DEFAULT_MODEL, timeout: float = 30):
        import grpc
        from tensorflow_serving.apis import prediction_service_pb2_grpc

        self.model = model
        self.timeout = timeout
        self._channel = grpc.insecure_channel(target)
        self._stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)

    def predict_texts(self, texts: list, version: int | None = None) -> list:
        import grpc
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2

        request = predict_pb2.PredictRequest()
        request.model_spec.name = self.model
        request.model_spec.signature_name = features.PREDICT_TEXT_SIGNATURE
        if version is not None:
            request.model_spec.version.value = version
        encoded = [text.encode("utf-8") for text in texts]
        request.inputs[features.TEXT_KEY].CopyFrom(tf.make_tensor_proto(encoded, dtype=tf.string))
        try:
            response = self._stub.Predict(request, timeout=self.timeout)
        except grpc.RpcError as error:
            raise ServingError(f"{error.code().name}: {error.details()}") from None
        probabilities = tf.make_ndarray(response.outputs[features.PROBABILITY_KEY])
        labels = tf.make_ndarray(response.outputs[features.PREDICTED_LABEL_KEY])
        return [Prediction(float(p), int(label)) for p, label in zip(probabilities, labels, strict=True)]

    def close(self) -> None:
        self._channel.close()
