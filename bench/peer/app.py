"""The peer: what the checklist's stack serves (src/app.py + src/prediction.py of
/work/shared/seed-checklist.md's project layout): FastAPI on uvicorn, a pydantic request
model, xgb.DMatrix and Booster.predict. GET /ping answers {"status": "UP"}; POST /invocations
takes {"instances": [[...], ...]} (null for missing) or text/csv (an empty field is missing).

Run: MODEL_FILE=model.json uvicorn app:app --port 8081 (bench/run adds --loop uvloop
--http httptools, which is what uvicorn[standard] picks).
"""
import io
import os
from typing import List, Optional

import numpy as np
import xgboost as xgb
from fastapi import FastAPI, Request, Response
from pydantic import BaseModel

booster = xgb.Booster(model_file=os.environ["MODEL_FILE"])
booster.set_param({"nthread": 1})
app = FastAPI()


class Instances(BaseModel):
    instances: List[List[Optional[float]]]


@app.get("/ping")
def ping():
    return {"status": "UP"}


def predict(x: np.ndarray) -> np.ndarray:
    return booster.predict(xgb.DMatrix(x, missing=np.nan))


@app.post("/invocations")
async def invocations(request: Request):
    body = await request.body()
    if request.headers.get("content-type", "").startswith("text/csv"):
        x = np.genfromtxt(io.BytesIO(body), delimiter=",", dtype=np.float32, ndmin=2)
        p = predict(x)
        lines = "\n".join(",".join(repr(float(v)) for v in np.atleast_1d(r)) for r in p)
        return Response(lines + "\n", media_type="text/csv")
    req = Instances.parse_raw(body)
    x = np.array([[np.nan if v is None else v for v in row] for row in req.instances], dtype=np.float32)
    return {"predictions": predict(x).tolist()}
