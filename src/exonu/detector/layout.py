"""Layout of the detector arrays the simulation kernel reads.

:class:`exonu.detector.response.DetectorResponse` fills them
(:meth:`~exonu.detector.response.DetectorResponse.kernel_parameters`,
:meth:`~exonu.detector.response.DetectorResponse.npe_table`) and
:func:`exonu.sim.kernels.generate_events` reads them; the indices live here, below both.
"""

from __future__ import annotations

#: detector parameter array (float64), built by
#: :meth:`exonu.detector.response.DetectorResponse.kernel_parameters`
P_RADIUS = 0
P_THRESHOLD = 1
P_TRIGGER_PE = 2
P_PE_PER_KEV = 3
P_NL_E0 = 4
P_NL_POWER = 5
P_NL_NORM = 6
P_RES_CONST = 7
P_RPE_SIGMA5 = 8
P_RPE_SCALE = 9
P_RT_SIGMA5 = 10
P_MIS_P5 = 11
P_MIS_POWER = 12
P_MIS_DEPTH = 13
P_DEAD_BOOST = 14
P_DEAD_RANGE = 15
P_MIS_RT_SIGMA5 = 16
P_MIS_ANGLE = 17
P_TAG_NPE = 18
P_TAG_POWER = 19
P_CK_MEAN_PE = 20
P_AP_MEAN_PE = 21
N_DET_PARAMS = 22

#: columns of the per-photoelectron-count table (row = npe),
#: built by :meth:`exonu.detector.response.DetectorResponse.npe_table`
T_SCALE = 0  # sqrt(5 keV / E_vis): resolution scaling of the reconstructions
T_MIS = 1  # energy factor of the mis-reconstruction probability
T_TAG = 2  # probability of a hit-timing tag of a scintillation event
N_NPE_ROWS = 3
