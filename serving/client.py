"""Small clients for the served model: REST (either server) and gRPC (TF Serving).

`RestClient` speaks TF Serving's REST API, so it works against `polarity serve`
and against the tensorflow/serving image on port 8501; `GrpcClient` uses
tensorflow-serving-api against TF Serving's gRPC port 8500.

Texts are scored with the model's raw-text signature; the class names come from
the model itself (its `classes` output, beside `scores`), never from training code.
"""

import dataclasses
import json
import urllib.error
import urllib.request

from polarity.config import ServingConfig

# The signature that takes raw strings (its one input) and returns `classes` and `scores`.
PREDICT_TEXT_SIGNATURE = "predict_text"
CLASSES_OUTPUT, SCORES_OUTPUT = "classes", "scores"

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
    """One text's scores by class name, in the model's class order."""

    scores: dict

    @property
    def top_class(self) -> str:
        """The class with the highest score."""
        return max(self.scores, key=self.scores.get)


def predictions_from(classes, scores) -> list:
    """Predictions from the `classes` and `scores` outputs ([texts, n_classes] each)."""
    return [
        Prediction({_text(name): float(score) for name, score in zip(names, values, strict=True)})
        for names, values in zip(classes, scores, strict=True)
    ]


def _text(name) -> str:
    return name.decode("utf-8") if isinstance(name, bytes) else str(name)


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

    def explain(self, body: dict, version: int | None = None) -> dict:
        """A raw :explain call (an extension of TF Serving's API; serving/explanations.py)."""
        return self._call(_model_path(self.model, version) + ":explain", body)

    def explain_texts(self, texts: list, version: int | None = None) -> list:
        """Word attributions of raw texts: one `explanations.Explanation` per text.

        TensorFlow Serving has no :explain (it answers "Malformed request"); there the
        model's explanation signature runs through :predict instead, with the same result.
        """
        from serving import explanations

        try:
            answer = self.explain({"instances": list(texts)}, version)
        except ServingError as error:
            if error.status != 400 or not error.message.startswith("Malformed request"):
                raise
            body = {"signature_name": explanations.EXPLAIN_SIGNATURE, "inputs": list(texts)}
            return explanations.explanations_from(self.predict(body, version)["outputs"])
        return [explanations.Explanation.from_json(value) for value in answer[explanations.EXPLANATIONS_KEY]]

    def predict_texts(self, texts: list, version: int | None = None) -> list:
        """Scores raw texts with the `predict_text` signature: one Prediction per text."""
        body = {"signature_name": PREDICT_TEXT_SIGNATURE, "inputs": list(texts)}
        outputs = self.predict(body, version)["outputs"]
        return predictions_from(outputs[CLASSES_OUTPUT], outputs[SCORES_OUTPUT])


class GrpcClient:
    """TF Serving gRPC client (PredictionService.Predict on the `predict_text` signature)."""

    def __init__(self, target: str = DEFAULT_GRPC_TARGET, model: str = DEFAULT_MODEL, timeout: float = 30):
        import grpc
        from tensorflow_serving.apis import prediction_service_pb2_grpc

        self.model = model
        self.timeout = timeout
        self._channel = grpc.insecure_channel(target)
        self._stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        self._text_inputs: dict = {}

    def _call(self, method, request):
        import grpc

        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as error:
            raise ServingError(f"{error.code().name}: {error.details()}") from None

    def _text_input(self, version: int | None) -> str:
        """The name of `predict_text`'s one input, from the model's metadata (asked once)."""
        if version not in self._text_inputs:
            from tensorflow_serving.apis import get_model_metadata_pb2

            request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
            request.model_spec.name = self.model
            if version is not None:
                request.model_spec.version.value = version
            response = self._call(self._stub.GetModelMetadata, request)
            signatures = get_model_metadata_pb2.SignatureDefMap()
            response.metadata["signature_def"].Unpack(signatures)
            inputs = list(signatures.signature_def[PREDICT_TEXT_SIGNATURE].inputs)
            if len(inputs) != 1:
                raise ServingError(f"signature {PREDICT_TEXT_SIGNATURE!r} takes {inputs}, not one text input")
            self._text_inputs[version] = inputs[0]
        return self._text_inputs[version]

    def predict_texts(self, texts: list, version: int | None = None) -> list:
        """Scores raw texts with the `predict_text` signature: one Prediction per text."""
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2

        request = predict_pb2.PredictRequest()
        request.model_spec.name = self.model
        request.model_spec.signature_name = PREDICT_TEXT_SIGNATURE
        if version is not None:
            request.model_spec.version.value = version
        encoded = [text.encode("utf-8") for text in texts]
        request.inputs[self._text_input(version)].CopyFrom(tf.make_tensor_proto(encoded, dtype=tf.string))
        outputs = self._call(self._stub.Predict, request).outputs
        return predictions_from(
            tf.make_ndarray(outputs[CLASSES_OUTPUT]), tf.make_ndarray(outputs[SCORES_OUTPUT])
        )

    def close(self) -> None:
        self._channel.close()
