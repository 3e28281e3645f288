"""Train a LoRA adapter and register it as a new, inactive candidate version."""

from dataclasses import fields
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.models import ModelVersion
from training.pipeline.finetune import TrainConfig, register_adapter, train_adapter

_TUNABLE = [f for f in fields(TrainConfig) if f.name not in ("base_model_path", "out_dir")]


class Command(BaseCommand):
    help = "LoRA/QLoRA fine-tuning on chat JSONL with the loss on the answers only."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: object) -> CommandParser:
        # --version names a model version here, not Django's version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        base = parser.add_mutually_exclusive_group(required=True)
        base.add_argument("--base", help="folder of a HF causal LM")
        base.add_argument("--version", help="name of the ModelVersion to train from")
        parser.add_argument("--train", required=True, help="chat JSONL to train on")
        parser.add_argument("--validation", required=True, help="chat JSONL for early stopping")
        parser.add_argument("--out", required=True, help="folder for the adapter and its files")
        parser.add_argument("--name", default="", help="name of the new version")
        parser.add_argument("--no-register", action="store_true", help="do not add a version")
        for f in _TUNABLE:
            if f.name in ("train_path", "validation_path"):
                continue
            flag = "--" + f.name.replace("_", "-")
            if f.type in ("bool", "bool | None"):
                parser.add_argument(flag, action="store_true", default=None)
            else:
                kind = {"int": int, "float": float, "str": str}[str(f.type)]
                parser.add_argument(flag, type=kind, default=None)

    def handle(self, *args: object, **options: Any) -> None:
        version = None
        if options["version"]:
            version = ModelVersion.objects.filter(name=options["version"]).first()
            if version is None:
                raise CommandError(f"No model version named {options['version']!r}")
        overrides = {
            f.name: options[f.name]
            for f in _TUNABLE
            if f.name in options and options[f.name] is not None
        }
        overrides.update(train_path=options["train"], validation_path=options["validation"])
        overrides.setdefault("torch_threads", settings.TORCH_THREADS)
        if version is not None:
            overrides.setdefault("prompt_format", version.prompt_format)
            overrides.setdefault("system_prompt", version.system_prompt)
        config = TrainConfig(
            base_model_path=version.base_model_path if version else options["base"],
            out_dir=options["out"],
            **overrides,
        )
        result = train_adapter(config)
        self.stdout.write(
            f"{result.steps} steps in {result.seconds}s, best validation loss "
            f"{result.best_val_loss:.4f}; adapter in {result.adapter_dir}"
        )
        if not options["no_register"]:
            created = register_adapter(result, version, options["name"])
            self.stdout.write(f"Registered inactive candidate version {created.name}")
