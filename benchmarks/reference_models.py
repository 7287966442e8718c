#!/usr/bin/python3
"""PyTorch re-implementations of MedicalZooPytorch's 3D segmentation networks (lib/medzoo).

Why this exists
---------------
MedZoo's C# networks must have exactly the reference's parameter count where they follow the
reference's design, and the benchmarks compare their speed with PyTorch's. MedicalZooPytorch itself
is not installable here (its package imports torchsummary, tensorboard, ...), so this module
rebuilds each architecture from the reference's layer definitions: same layers, same channel
arithmetic, same forward pass, including the reference's quirks that decide parameter counts or
make a configuration fail (hard-coded channel totals, ignored ``in_channels``, grouped transposed
convolutions). Where the reference fails for a configuration, ``build`` or ``check`` fails the same
way, and ``__main__`` records the error instead of a count.

Usage (Debian 12: ``apt-get install python3-torch``)::

    /usr/bin/python3 benchmarks/reference_models.py > MedZoo.Tests/Engine/Networks/reference_parameter_counts.json

prints ``{NAME: [{"in", "classes", "parameters", "forward", ...}, ...]}`` for a table of
configurations. ``forward`` is "ok" when a forward pass on a small input returned logits of shape
(1, classes, D, H, W) with the input's spatial size, otherwise the reason it did not.

Other scripts import ``build(name, in_channels, classes, **options)`` (names as MedicalZoo's
``--model``), ``check(model, name, in_channels, classes)`` and ``parameter_count(model)``.
``UNET3D_CICEK`` is not in MedicalZoo: it is the original 3D U-Net (Cicek et al. 2016) as MedZoo
builds it, so that benchmark and paper count (19,069,955 for 3 inputs and 3 classes) can be checked.
"""

import json
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())


# --------------------------------------------------------------------------------------------
# UNET3D: MedicalZoo's Unet3D.py (Isensee et al. 2017 variant), base_n_filter = 8.
# --------------------------------------------------------------------------------------------
def _c3(cin, cout, stride=1):
    return nn.Conv3d(cin, cout, 3, stride=stride, padding=1, bias=False)


def _c1(cin, cout):
    return nn.Conv3d(cin, cout, 1, bias=False)


class RefUNet3D(nn.Module):
    def __init__(self, in_channels, classes, base=8):
        super().__init__()
        f = base
        self.conv3d_c1_1 = _c3(in_channels, f)
        self.conv3d_c1_2 = _c3(f, f)
        self.lrelu_conv_c1 = nn.Sequential(nn.LeakyReLU(), _c3(f, f))
        self.inorm3d_c1 = nn.InstanceNorm3d(f)
        for level in range(2, 6):
            ch = f * 2 ** (level - 1)
            setattr(self, f"conv3d_c{level}", _c3(ch // 2, ch, stride=2))
            setattr(self, f"norm_lrelu_conv_c{level}",
                    nn.Sequential(nn.InstanceNorm3d(ch), nn.LeakyReLU(), _c3(ch, ch)))
            if level < 5:
                setattr(self, f"inorm3d_c{level}", nn.InstanceNorm3d(ch))
        self.norm_lrelu_upscale_conv_norm_lrelu_l0 = self._up(16 * f, 8 * f)
        self.conv3d_l0 = _c1(8 * f, 8 * f)
        self.inorm3d_l0 = nn.InstanceNorm3d(8 * f)
        # localization levels 1..4 concatenate (upsampled, context) then halve the channels
        for level, ch in zip(range(1, 5), (16 * f, 8 * f, 4 * f, 2 * f)):
            setattr(self, f"conv_norm_lrelu_l{level}",
                    nn.Sequential(_c3(ch, ch), nn.InstanceNorm3d(ch), nn.LeakyReLU()))
            if level < 4:
                setattr(self, f"conv3d_l{level}", _c1(ch, ch // 2))
                setattr(self, f"norm_lrelu_upscale_conv_norm_lrelu_l{level}", self._up(ch // 2, ch // 4))
        self.conv3d_l4 = _c1(2 * f, classes)
        self.ds2_1x1_conv3d = _c1(8 * f, classes)
        self.ds3_1x1_conv3d = _c1(4 * f, classes)
        self.dropout3d = nn.Dropout3d(p=0.6)

    @staticmethod
    def _up(cin, cout):
        return nn.Sequential(nn.InstanceNorm3d(cin), nn.LeakyReLU(), nn.Upsample(scale_factor=2, mode="nearest"),
                             _c3(cin, cout), nn.InstanceNorm3d(cout), nn.LeakyReLU())

    def forward(self, x):
        lrelu = F.leaky_relu
        out = self.conv3d_c1_1(x)
        residual = out
        out = self.lrelu_conv_c1(self.dropout3d(self.conv3d_c1_2(lrelu(out))))
        out = out + residual
        context = [lrelu(out)]
        out = lrelu(self.inorm3d_c1(out))
        for level in range(2, 6):
            out = getattr(self, f"conv3d_c{level}")(out)
            residual = out
            block = getattr(self, f"norm_lrelu_conv_c{level}")
            out = block(self.dropout3d(block(out))) + residual  # the reference applies the same block twice
            if level < 5:
                out = lrelu(getattr(self, f"inorm3d_c{level}")(out))
                context.append(out)
        out = self.norm_lrelu_upscale_conv_norm_lrelu_l0(out)
        out = lrelu(self.inorm3d_l0(self.conv3d_l0(out)))
        ds = []
        for level in range(1, 5):
            out = torch.cat([out, context[4 - level]], dim=1)
            out = getattr(self, f"conv_norm_lrelu_l{level}")(out)
            if level in (2, 3):
                ds.append(out)
            if level < 4:
                out = getattr(self, f"norm_lrelu_upscale_conv_norm_lrelu_l{level}")(getattr(self, f"conv3d_l{level}")(out))
        pred = self.conv3d_l4(out)
        up = F.interpolate(self.ds2_1x1_conv3d(ds[0]), scale_factor=2, mode="nearest") + self.ds3_1x1_conv3d(ds[1])
        return pred + F.interpolate(up, scale_factor=2, mode="nearest")


# --------------------------------------------------------------------------------------------
# VNET / VNET2: MedicalZoo's Vnet.py; create_model passes elu=False, so activations are PReLU(n).
# --------------------------------------------------------------------------------------------
def _act(n, elu):
    return nn.ELU(inplace=True) if elu else nn.PReLU(n)


class _LUConv(nn.Module):
    def __init__(self, n, elu):
        super().__init__()
        self.relu1 = _act(n, elu)
        self.conv1 = nn.Conv3d(n, n, 5, padding=2)
        self.bn1 = nn.BatchNorm3d(n)

    def forward(self, x):
        return self.relu1(self.bn1(self.conv1(x)))


class _InTr(nn.Module):
    def __init__(self, in_channels, elu):
        super().__init__()
        self.in_channels = in_channels
        self.conv1 = nn.Conv3d(in_channels, 16, 5, padding=2)
        self.bn1 = nn.BatchNorm3d(16)
        self.relu1 = _act(16, elu)

    def forward(self, x):
        # reference: x.repeat(1, int(16 / in_channels)) (15 channels for 3 inputs: fails)
        return self.relu1(self.bn1(self.conv1(x)) + x.repeat(1, 16 // self.in_channels, 1, 1, 1))


class _DownTr(nn.Module):
    def __init__(self, cin, convs, elu, dropout=False):
        super().__init__()
        cout = 2 * cin
        self.down_conv = nn.Conv3d(cin, cout, 2, stride=2)
        self.bn1 = nn.BatchNorm3d(cout)
        self.relu1 = _act(cout, elu)
        self.relu2 = _act(cout, elu)
        self.do1 = nn.Dropout3d() if dropout else nn.Identity()
        self.ops = nn.Sequential(*[_LUConv(cout, elu) for _ in range(convs)])

    def forward(self, x):
        down = self.relu1(self.bn1(self.down_conv(x)))
        return self.relu2(self.ops(self.do1(down)) + down)


class _UpTr(nn.Module):
    def __init__(self, cin, cout, convs, elu, dropout=False):
        super().__init__()
        self.up_conv = nn.ConvTranspose3d(cin, cout // 2, 2, stride=2)
        self.bn1 = nn.BatchNorm3d(cout // 2)
        self.do1 = nn.Dropout3d() if dropout else nn.Identity()
        self.do2 = nn.Dropout3d()
        self.relu1 = _act(cout // 2, elu)
        self.relu2 = _act(cout, elu)
        self.ops = nn.Sequential(*[_LUConv(cout, elu) for _ in range(convs)])

    def forward(self, x, skip):
        out = self.relu1(self.bn1(self.up_conv(self.do1(x))))
        cat = torch.cat((out, self.do2(skip)), 1)
        return self.relu2(self.ops(cat) + cat)


class _OutTr(nn.Module):
    def __init__(self, cin, classes, elu):
        super().__init__()
        self.conv1 = nn.Conv3d(cin, classes, 5, padding=2)
        self.bn1 = nn.BatchNorm3d(classes)
        self.conv2 = nn.Conv3d(classes, classes, 1)
        self.relu1 = _act(classes, elu)

    def forward(self, x):
        return self.conv2(self.relu1(self.bn1(self.conv1(x))))


class RefVNet(nn.Module):
    def __init__(self, in_channels, classes, elu=False, light=False):
        super().__init__()
        self.light = light
        self.in_tr = _InTr(in_channels, elu)
        self.down_tr32 = _DownTr(16, 1, elu)
        self.down_tr64 = _DownTr(32, 2, elu)
        self.down_tr128 = _DownTr(64, 3, elu, dropout=True)
        if light:
            self.up_tr128 = _UpTr(128, 128, 2, elu, dropout=True)
        else:
            self.down_tr256 = _DownTr(128, 2, elu, dropout=True)
            self.up_tr256 = _UpTr(256, 256, 2, elu, dropout=True)
            self.up_tr128 = _UpTr(256, 128, 2, elu, dropout=True)
        self.up_tr64 = _UpTr(128, 64, 1, elu)
        self.up_tr32 = _UpTr(64, 32, 1, elu)
        self.out_tr = _OutTr(32, classes, elu)

    def forward(self, x):
        out16 = self.in_tr(x)
        out32 = self.down_tr32(out16)
        out64 = self.down_tr64(out32)
        out128 = self.down_tr128(out64)
        if self.light:
            out = self.up_tr128(out128, out64)
        else:
            out = self.up_tr256(self.down_tr256(out128), out128)
            out = self.up_tr128(out, out64)
        out = self.up_tr64(out, out32)
        out = self.up_tr32(out, out16)
        return self.out_tr(out)


# --------------------------------------------------------------------------------------------
# DENSENET1/2/3: MedicalZoo's Densenet3D.py (HyperDenseNet paper's single/dual path variants).
# --------------------------------------------------------------------------------------------
class _HDLayer(nn.Module):
    """BN, ReLU, 3x3x3 conv (no bias), dropout; output = cat(input, new)."""

    def __init__(self, cin, cout, drop):
        super().__init__()
        self.norm1 = nn.BatchNorm3d(cin)
        self.conv1 = nn.Conv3d(cin, cout, 3, padding=1, bias=False)
        self.drop = drop

    def forward(self, x):
        new = self.conv1(F.relu(self.norm1(x)))
        if self.drop > 0:
            new = F.dropout(new, p=self.drop, training=self.training)
        return torch.cat([x, new], 1)


_BLOCK_9 = [25, 25, 25, 50, 50, 50, 75, 75, 75]  # _HyperDenseBlock
_BLOCK_8 = [25, 25, 50, 50, 50, 75, 75, 75]      # _HyperDenseBlockEarlyFusion


def _hd_block(cin, growth, drop):
    layers, c = [], cin
    for g in growth:
        layers.append(_HDLayer(c, g, drop))
        c += g
    return nn.Sequential(*layers)


class RefSinglePath(nn.Module):
    def __init__(self, in_channels, classes, drop=0.1, return_logits=True, early_fusion=False):
        super().__init__()
        self.return_logits = return_logits
        if early_fusion:
            block = _hd_block(in_channels, _BLOCK_8, drop)
            total = 477 if in_channels == 52 else (426 if in_channels == 3 else 503)  # reference's constants
        else:
            block = _hd_block(in_channels, _BLOCK_9, drop)
            total = 452 if in_channels == 2 else 451  # reference's constants
        self.features = nn.Sequential(block,
                                      nn.Conv3d(total, 400, 1, bias=False), nn.Dropout(0.5),
                                      nn.Conv3d(400, 200, 1, bias=False), nn.Dropout(0.5),
                                      nn.Conv3d(200, 150, 1, bias=False), nn.Dropout(0.5))
        self.classifier = nn.Conv3d(150, classes, 1, bias=False)

    def forward(self, x):
        features = self.features(x)
        return self.classifier(features) if self.return_logits else features


class RefDualPath(nn.Module):
    def __init__(self, in_channels, classes, drop=0.0):
        super().__init__()
        self.in_channels = in_channels
        streams = []
        if in_channels == 2:
            streams = [RefSinglePath(1, classes, drop, False, early_fusion=True) for _ in range(2)]
        elif in_channels == 3:
            streams = [RefSinglePath(1, classes, drop, False) for _ in range(3)]
        self.streams = nn.ModuleList(streams)
        self.classifier = nn.Conv3d(in_channels * 150, classes, 1, bias=False)

    def forward(self, x):
        if len(self.streams) == 0:
            raise RuntimeError("reference DualPathDenseNet returns None for in_channels not in (2, 3)")
        feats = [s(x[:, i:i + 1]) for i, s in enumerate(self.streams)]
        return self.classifier(torch.cat(feats, 1))


class RefDualSingle(nn.Module):
    def __init__(self, in_channels, classes, drop=0.1):
        super().__init__()
        self.in_channels = in_channels
        early = []
        if in_channels == 2:
            early = [_HDLayer(1, 25, drop) for _ in range(2)]
            self.stream_1 = RefSinglePath(52, classes, drop, True, early_fusion=True)
        elif in_channels == 3:
            early = [_HDLayer(1, 25, 0.0) for _ in range(3)]
            self.stream_1 = RefSinglePath(78, classes, drop, True, early_fusion=True)
        self.early = nn.ModuleList(early)

    def forward(self, x):
        if len(self.early) == 0:
            raise RuntimeError("reference DualSingleDenseNet returns None for in_channels not in (2, 3)")
        # reference quirk: with two inputs both go through early_conv_1 (early_conv_2 is never used)
        convs = [self.early[0], self.early[0]] if self.in_channels == 2 else list(self.early)
        return self.stream_1(torch.cat([c(x[:, i:i + 1]) for i, c in enumerate(convs)], 1))


# --------------------------------------------------------------------------------------------
# HYPERDENSENET: MedicalZoo's HyperDensenet.py (2 or 3 modalities, valid convolutions).
# --------------------------------------------------------------------------------------------
def _hyper_conv(cin, cout, bn):
    layers = [nn.BatchNorm3d(cin)] if bn else []
    return nn.Sequential(*layers, nn.PReLU(), nn.Dropout(0.0), nn.Conv3d(cin, cout, 3))


def _crop(t, like):
    b = (t.shape[2] - like.shape[2]) // 2
    return t[:, :, b:t.shape[2] - b, b:t.shape[3] - b, b:t.shape[4] - b]


class RefHyperDenseNet(nn.Module):
    def __init__(self, in_channels, classes):
        super().__init__()
        if in_channels not in (2, 3):
            raise NotImplementedError("reference HYPERDENSENET supports 2 or 3 input channels only")
        n = in_channels
        outs = [25, 25, 25, 50, 50, 50, 75, 75, 75]
        self.paths = nn.ModuleList()
        for _ in range(n):
            layers, cin = [], 1
            for i, c in enumerate(outs):
                layers.append(_hyper_conv(cin, c, bn=i > 0))
                cin = n * sum(outs[:i + 1])
            self.paths.append(nn.ModuleList(layers))
        self.fully_1 = nn.Conv3d(n * n * sum(outs), 400, 1)
        self.fully_2 = nn.Conv3d(400, 200, 1)
        self.fully_3 = nn.Conv3d(200, 150, 1)
        self.final = nn.Conv3d(150, classes, 1)
        if n == 2:
            self.upsample_covn = nn.ConvTranspose3d(classes, classes, 3, stride=3)
        self.n = n

    def forward(self, x):
        n = self.n
        y = [self.paths[p][0](x[:, p:p + 1]) for p in range(n)]
        inputs = [torch.cat([y[p]] + [y[q] for q in range(n) if q != p], 1) for p in range(n)]
        for layer in range(1, 9):
            y = [self.paths[p][layer](inputs[p]) for p in range(n)]
            inputs = [torch.cat([_crop(inputs[p], y[p]), y[p]] + [y[q] for q in range(n) if q != p], 1)
                      for p in range(n)]
        out = self.final(self.fully_3(self.fully_2(self.fully_1(torch.cat(inputs, 1)))))
        return self.upsample_covn(out) if n == 2 else out


# --------------------------------------------------------------------------------------------
# SKIPDENSENET3D: MedicalZoo's SkipDenseNet3D.py; create_model never passes in_channels (2 used).
# --------------------------------------------------------------------------------------------
class _DenseBottleneckLayer(nn.Module):
    def __init__(self, cin, growth, bn_size, drop):
        super().__init__()
        self.norm1 = nn.BatchNorm3d(cin)
        self.conv1 = nn.Conv3d(cin, bn_size * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm3d(bn_size * growth)
        self.conv2 = nn.Conv3d(bn_size * growth, growth, 3, padding=1, bias=False)
        self.drop = nn.Dropout(drop) if drop > 0 else nn.Identity()

    def forward(self, x):
        new = self.conv2(F.relu(self.norm2(self.conv1(F.relu(self.norm1(x))))))
        return torch.cat([x, self.drop(new)], 1)


class RefSkipDenseNet3D(nn.Module):
    def __init__(self, in_channels, classes, growth=16, blocks=(4, 4, 4, 4), init=32, drop=0.1, bn_size=4):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv3d(in_channels, init, 3, padding=1, bias=False), nn.BatchNorm3d(init), nn.ReLU(),
            nn.Conv3d(init, init, 3, padding=1, bias=False), nn.BatchNorm3d(init), nn.ReLU(),
            nn.Conv3d(init, init, 3, padding=1, bias=False))
        self.features_bn = nn.Sequential(nn.BatchNorm3d(init), nn.ReLU())
        self.conv_pool_first = nn.Conv3d(init, init, 2, stride=2, bias=False)
        self.dense_blocks, self.transit_blocks, self.upsampling_blocks = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        c = init
        for i, n in enumerate(blocks):
            self.dense_blocks.append(nn.Sequential(*[_DenseBottleneckLayer(c + j * growth, growth, bn_size, drop)
                                                     for j in range(n)]))
            c += n * growth
            s = 2 ** (i + 1)
            self.upsampling_blocks.append(nn.ConvTranspose3d(c, classes, s + 2, stride=s, padding=1, groups=classes,
                                                             bias=False))
            if i != len(blocks) - 1:
                self.transit_blocks.append(nn.Sequential(
                    nn.BatchNorm3d(c), nn.ReLU(), nn.Conv3d(c, c // 2, 1, bias=False),
                    nn.BatchNorm3d(c // 2), nn.ReLU(), nn.Conv3d(c // 2, c // 2, 2, stride=2)))
                c //= 2
        self.bn_class = nn.BatchNorm3d(classes * 4 + init)
        self.conv_class = nn.Conv3d(classes * 4 + init, classes, 1)

    def forward(self, x):
        first = self.features(x)
        out = self.conv_pool_first(self.features_bn(first))
        ups = []
        for i, block in enumerate(self.dense_blocks):
            out = block(out)
            ups.append(self.upsampling_blocks[i](out))
            if i < len(self.transit_blocks):
                out = self.transit_blocks[i](out)
        return self.conv_class(F.relu(self.bn_class(torch.cat(ups + [first], 1))))


# --------------------------------------------------------------------------------------------
# DENSEVOXELNET: MedicalZoo's DenseVoxelNet.py (returns (main, auxiliary) logits).
# --------------------------------------------------------------------------------------------
class _DVLayer(nn.Module):
    def __init__(self, cin, growth, drop=0.2):
        super().__init__()
        self.norm1 = nn.BatchNorm3d(cin)
        self.conv1 = nn.Conv3d(cin, growth, 3, padding=1, bias=False)
        self.drop = nn.Dropout(drop)

    def forward(self, x):
        return torch.cat([x, self.drop(self.conv1(F.relu(self.norm1(x))))], 1)


class RefDenseVoxelNet(nn.Module):
    def __init__(self, in_channels, classes):
        super().__init__()
        self.conv_init = nn.Conv3d(in_channels, 16, 1, stride=2, bias=False)
        self.dense_1 = nn.Sequential(*[_DVLayer(16 + 12 * i, 12) for i in range(12)])
        self.trans = nn.Sequential(nn.BatchNorm3d(160), nn.ReLU(), nn.Conv3d(160, 160, 1))
        self.dense_2 = nn.Sequential(*[_DVLayer(160 + 12 * i, 12) for i in range(12)])
        self.up_block = nn.Sequential(nn.BatchNorm3d(304), nn.ReLU(), nn.Conv3d(304, 304, 1, bias=False),
                                      nn.ConvTranspose3d(304, 128, 2, stride=2),
                                      nn.ConvTranspose3d(128, 64, 2, stride=2))
        self.conv_final = nn.Conv3d(64, classes, 1, bias=False)
        self.transpose = nn.ConvTranspose3d(160, 64, 2, stride=2)

    def forward(self, x, auxiliary=False):
        x = self.dense_1(self.conv_init(x))
        t = self.trans(x)
        x = self.up_block(self.dense_2(F.max_pool3d(t, 2)))
        y1 = self.conv_final(x)
        y2 = self.conv_final(self.transpose(t))
        return (y1, y2) if auxiliary else y1


# --------------------------------------------------------------------------------------------
# RESNET3DVAE: MedicalZoo's ResNet3D_VAE.py (Myronenko 2018); dense layers sized by `dim`.
# --------------------------------------------------------------------------------------------
class _Green(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer_1 = nn.Sequential(nn.GroupNorm(8, c), nn.ReLU())
        self.layer_2 = nn.Sequential(nn.Conv3d(c, c, 3, padding=1), nn.GroupNorm(8, c), nn.ReLU())
        self.conv_3 = nn.Conv3d(c, c, 3, padding=1)

    def forward(self, x):
        x = self.layer_2(self.layer_1(x))
        return self.conv_3(x) + x  # reference: the shortcut starts after the first conv


def _up2(cin, cout):
    return nn.Sequential(nn.Conv3d(cin, cout, 1), nn.Upsample(scale_factor=2, mode="nearest"))


class RefResNet3dVAE(nn.Module):
    def __init__(self, in_channels, classes, dim=(64, 64, 64), start=32, top=256):
        super().__init__()
        s = start
        self.blue_1 = nn.Conv3d(in_channels, s, 3, padding=1)
        self.drop = nn.Dropout3d(0.2)
        self.green_1 = _Green(s)
        self.down_1 = nn.Conv3d(s, 2 * s, 3, stride=2, padding=1)
        self.green_2 = nn.Sequential(_Green(2 * s), _Green(2 * s))
        self.down_2 = nn.Conv3d(2 * s, 4 * s, 3, stride=2, padding=1)
        self.green_3 = nn.Sequential(_Green(4 * s), _Green(4 * s))
        self.down_3 = nn.Conv3d(4 * s, 8 * s, 3, stride=2, padding=1)
        self.green_4 = nn.Sequential(*[_Green(8 * s) for _ in range(4)])
        self.up_1, self.dgreen_1 = _up2(top, top // 2), _Green(top // 2)
        self.up_2, self.dgreen_2 = _up2(top // 2, top // 4), _Green(top // 4)
        self.up_3, self.dgreen_3 = _up2(top // 4, top // 8), _Green(top // 8)
        self.blue = nn.Conv3d(top // 8, classes, 3, padding=1)
        # VAE branch; reference: vae_in_dim = (dim[0] >> 3, dim[1] >> 3, dim[0] >> 3)
        vin = (dim[0] >> 3, dim[1] >> 3, dim[0] >> 3)
        self.enc = 16
        self.reshape = (dim[0] // 16, dim[1] // 16, dim[2] // 16)
        self.linear_in = int(self.enc * (vin[0] / 2) * (vin[1] / 2) * (vin[2] / 2))
        self.VD = nn.Sequential(nn.GroupNorm(8, top), nn.ReLU(), nn.Conv3d(top, self.enc, 3, stride=2, padding=1))
        self.linear_1 = nn.Linear(self.linear_in, top)
        self.linear_vu = nn.Linear(top // 2, self.enc * self.reshape[0] * self.reshape[1] * self.reshape[2])
        self.VU = nn.Sequential(nn.ReLU(), _up2(self.enc, top))
        self.Vup2, self.Vblock2 = _up2(top, top // 2), _Green(top // 2)
        self.Vup1, self.Vblock1 = _up2(top // 2, top // 4), _Green(top // 4)
        self.Vup0, self.Vblock0 = _up2(top // 4, top // 8), _Green(top // 8)
        self.Vend = nn.Conv3d(top // 8, in_channels, 3, padding=1)
        self.split = top // 2

    def forward(self, x, auxiliary=False):
        x1 = self.green_1(self.drop(self.blue_1(x)))
        x2 = self.green_2(self.down_1(x1))
        x3 = self.green_3(self.down_2(x2))
        x4 = self.green_4(self.down_3(x3))
        y = self.dgreen_1(self.up_1(x4) + x3)
        y = self.dgreen_2(self.up_2(y) + x2)
        y = self.dgreen_3(self.up_3(y) + x1)
        y = self.blue(y)
        if not auxiliary:
            return y
        v = self.linear_1(self.VD(x4).view(-1, self.linear_in))
        mu, logvar = v[:, :self.split], torch.log(v[:, self.split:])  # reference: log of a linear output
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        z = self.linear_vu(z).view(-1, self.enc, *self.reshape)
        z = self.Vblock0(self.Vup0(self.Vblock1(self.Vup1(self.Vblock2(self.Vup2(self.VU(z)))))))
        return y, self.Vend(z), mu, logvar


# --------------------------------------------------------------------------------------------
# RESNETMED3D: MedicalZoo's ResNet3DMedNet.py (Med3D), depth 18 as create_model builds it (lib/medzoo/__init__.py:
# `depth = 18`; earlier revisions used 10, kept as a variant).
# --------------------------------------------------------------------------------------------
class _Basic(nn.Module):
    expansion = 1

    def __init__(self, cin, planes, stride=1, dilation=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv3d(cin, planes, 3, stride=stride, padding=dilation, dilation=dilation, bias=False)
        self.bn1 = nn.BatchNorm3d(planes)
        self.conv2 = nn.Conv3d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm3d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class _Bottle(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride=1, dilation=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv3d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm3d(planes)
        self.conv2 = nn.Conv3d(planes, planes, 3, stride=stride, padding=1, bias=False)  # reference: not dilated
        self.bn2 = nn.BatchNorm3d(planes)
        self.conv3 = nn.Conv3d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm3d(planes * 4)
        self.downsample = downsample

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


_RESNET_LAYERS = {10: [1, 1, 1, 1], 18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3],
                  101: [3, 4, 23, 3], 152: [3, 8, 36, 3], 200: [3, 24, 36, 3]}


class RefResNetMed3D(nn.Module):
    def __init__(self, in_channels, classes, depth=18):
        super().__init__()
        block = _Basic if depth < 50 else _Bottle
        self.conv1 = nn.Conv3d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm3d(64)
        self.maxpool = nn.MaxPool3d(3, stride=2, padding=1)
        self.in_planes = 64
        specs = [(64, 1, 1), (128, 2, 1), (256, 1, 2), (512, 1, 4)]
        for i, ((planes, stride, dil), n) in enumerate(zip(specs, _RESNET_LAYERS[depth])):
            setattr(self, f"layer{i + 1}", self._layer(block, planes, n, stride, dil))
        c = 512 * block.expansion
        self.segm = nn.Sequential(
            nn.ConvTranspose3d(c, 256, 2, stride=2), nn.BatchNorm3d(256), nn.ReLU(),
            nn.ConvTranspose3d(256, 256, 2, stride=2), nn.BatchNorm3d(256), nn.ReLU(),
            nn.ConvTranspose3d(256, 256, 2, stride=2), nn.BatchNorm3d(256), nn.ReLU(),
            nn.Conv3d(256, 128, 3, padding=1, bias=False), nn.BatchNorm3d(128), nn.ReLU(),
            nn.Conv3d(128, classes, 1, bias=False))

    def _layer(self, block, planes, n, stride, dilation):
        down = None
        if stride != 1 or self.in_planes != planes * block.expansion:
            down = nn.Sequential(nn.Conv3d(self.in_planes, planes * block.expansion, 1, stride=stride, bias=False),
                                 nn.BatchNorm3d(planes * block.expansion))
        layers = [block(self.in_planes, planes, stride, dilation, down)]
        self.in_planes = planes * block.expansion
        layers += [block(self.in_planes, planes, dilation=dilation) for _ in range(1, n)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        return self.segm(self.layer4(self.layer3(self.layer2(self.layer1(x)))))


# --------------------------------------------------------------------------------------------
# HIGHRESNET: MedicalZoo's HighResNet3D.py (shortcut 'A' = zero padding, dropout layer on).
# --------------------------------------------------------------------------------------------
def _pre(cin, cout, k=3, dil=1):
    return nn.Sequential(nn.BatchNorm3d(cin), nn.ReLU(), nn.Conv3d(cin, cout, k, padding=dil * (k // 2), dilation=dil))


class RefHighResNet3D(nn.Module):
    def __init__(self, in_channels, classes):
        super().__init__()
        self.conv_init = nn.Conv3d(in_channels, 16, 3, padding=1)
        self.init_norm = nn.Sequential(nn.BatchNorm3d(16), nn.ReLU())
        self.red = nn.ModuleList([nn.Sequential(_pre(16, 16), _pre(16, 16)) for _ in range(3)])
        self.dil2 = nn.ModuleList([nn.Sequential(_pre(16 if i == 0 else 32, 32, dil=2), _pre(32, 32, dil=2))
                                   for i in range(3)])
        self.dil4 = nn.ModuleList([nn.Sequential(_pre(32 if i == 0 else 64, 64, dil=4), _pre(64, 64, dil=4))
                                   for i in range(3)])
        self.conv_out = nn.Sequential(nn.Conv3d(64, 80, 1), nn.Dropout3d(), _pre(80, classes, k=1))

    @staticmethod
    def _pad(x, channels):
        z = x.new_zeros(x.shape[0], (channels - x.shape[1]) // 2, *x.shape[2:])
        return torch.cat((z, x, z), 1)

    def forward(self, x):
        # reference (red_forward): the first block takes the raw conv output, the shortcut its BN+ReLU
        raw = self.conv_init(x)
        r1 = self.red[0](raw)
        r2 = self.red[1](r1 + self.init_norm(raw))
        r3 = self.red[2](r2 + r1)
        d1 = self.dil2[0](r3 + r2)
        d2 = self.dil2[1](d1 + self._pad(r3, 32))
        d3 = self.dil2[2](d2 + d1)
        e1 = self.dil4[0](d3 + d2)
        e2 = self.dil4[1](e1 + self._pad(d3, 64))
        e3 = self.dil4[2](e2 + e1)
        return self.conv_out(e3 + e2)


# --------------------------------------------------------------------------------------------
# UNET3D_CICEK: the original 3D U-Net (Cicek et al. 2016) as MedZoo builds it (padded convs).
# --------------------------------------------------------------------------------------------
def _double(cin, mid, cout):
    return nn.Sequential(nn.Conv3d(cin, mid, 3, padding=1), nn.BatchNorm3d(mid), nn.ReLU(inplace=True),
                         nn.Conv3d(mid, cout, 3, padding=1), nn.BatchNorm3d(cout), nn.ReLU(inplace=True))


class UNet3DCicek(nn.Module):
    def __init__(self, in_channels, classes, base=32, depth=3):
        super().__init__()
        f = base
        self.down = nn.ModuleList()
        cin = in_channels
        for level in range(depth + 1):
            self.down.append(_double(cin, f * 2 ** level, f * 2 ** (level + 1)))
            cin = f * 2 ** (level + 1)
        self.up = nn.ModuleList()
        self.synth = nn.ModuleList()
        for level in reversed(range(depth)):
            c = f * 2 ** (level + 2)
            self.up.append(nn.ConvTranspose3d(c, c, 2, stride=2))
            self.synth.append(_double(c + f * 2 ** (level + 1), f * 2 ** (level + 1), f * 2 ** (level + 1)))
        self.out = nn.Conv3d(2 * f, classes, 1)

    def forward(self, x):
        skips = []
        for i, block in enumerate(self.down):
            x = block(x)
            if i < len(self.down) - 1:
                skips.append(x)
                x = F.max_pool3d(x, 2)
        for up, synth in zip(self.up, self.synth):
            x = synth(torch.cat([up(x), skips.pop()], 1))
        return self.out(x)


# --------------------------------------------------------------------------------------------
def build(name, in_channels, classes, **options):
    """Builds the reference network MedicalZoo's create_model builds for --model NAME."""
    name = name.upper()
    if name == "UNET3D":
        return RefUNet3D(in_channels, classes, options.get("base_filters", 8))
    if name == "VNET":
        return RefVNet(in_channels, classes)
    if name == "VNET2":
        return RefVNet(in_channels, classes, light=True)
    if name == "DENSENET1":
        return RefSinglePath(in_channels, classes, drop=0.1)
    if name == "DENSENET2":
        return RefDualPath(in_channels, classes, drop=0.0)
    if name == "DENSENET3":
        return RefDualSingle(in_channels, classes, drop=0.1)
    if name == "HYPERDENSENET":
        return RefHyperDenseNet(in_channels, classes)
    if name == "SKIPDENSENET3D":
        return RefSkipDenseNet3D(2, classes)  # reference: create_model does not pass in_channels
    if name == "DENSEVOXELNET":
        return RefDenseVoxelNet(in_channels, classes)
    if name == "RESNET3DVAE":
        return RefResNet3dVAE(in_channels, classes, dim=tuple(options.get("dim", (64, 64, 64))))
    if name == "RESNETMED3D":
        return RefResNetMed3D(in_channels, classes, options.get("depth", 18))
    if name == "HIGHRESNET":
        return RefHighResNet3D(in_channels, classes)
    if name == "UNET3D_CICEK":
        return UNet3DCicek(in_channels, classes, options.get("base_filters", 32), options.get("depth", 3))
    raise ValueError(f"unknown model {name}")


# smallest cube each reference accepts (HYPERDENSENET: valid convs lose 18 voxels; no cube gives its input size back)
CHECK_SIZE = {"UNET3D": 32, "VNET": 32, "SKIPDENSENET3D": 32, "HYPERDENSENET": 20, "DENSENET1": 12, "DENSENET2": 12, "DENSENET3": 12, "DENSEVOXELNET": 8}


def check(model, name, in_channels, classes, size=None, **options):
    """'ok' if a forward pass returns (1, classes, s, s, s) for a (1, in_channels, s, s, s) input."""
    s = size or options.get("dim", [CHECK_SIZE.get(name, 16)])[0]
    model.eval()
    try:
        with torch.no_grad():
            out = model(torch.rand(1, in_channels, s, s, s))
    except Exception as e:  # the point is to record how the reference fails
        return "error: " + str(e).splitlines()[0][:160]
    want = (1, classes, s, s, s)
    return "ok" if tuple(out.shape) == want else f"wrong output shape {tuple(out.shape)}, expected {want}"


def vae_log_variance_has_nan(model, in_channels, dim):
    """The reference takes log() of a linear layer's output as the log-variance: NaN where it is negative."""
    model.eval()
    with torch.no_grad():
        _, _, _, logvar = model(torch.rand(1, in_channels, *dim), auxiliary=True)
    return bool(torch.isnan(logvar).any())


CONFIGS = [(c, k) for c in (1, 2, 3, 4) for k in (2, 3, 4, 9)]
MODELS = ["UNET3D", "VNET", "VNET2", "DENSENET1", "DENSENET2", "DENSENET3", "HYPERDENSENET", "SKIPDENSENET3D",
          "DENSEVOXELNET", "RESNET3DVAE", "RESNETMED3D", "HIGHRESNET", "UNET3D_CICEK"]


def main():
    torch.manual_seed(0)
    torch.set_num_threads(2)
    table = {}
    for name in MODELS:
        rows = []
        variants = [{}]
        if name == "RESNET3DVAE":
            variants = [{"dim": [32, 32, 32]}, {"dim": [64, 64, 64]}]
        if name == "UNET3D_CICEK":
            variants = [{}, {"base_filters": 8}]
        if name == "RESNETMED3D":
            variants = [{}, {"depth": 10}]
        for options in variants:
            for cin, classes in CONFIGS:
                row = {"in": cin, "classes": classes, **options}
                try:
                    model = build(name, cin, classes, **options)
                except Exception as e:
                    row.update(parameters=None, forward="error: " + str(e).splitlines()[0][:160])
                    rows.append(row)
                    continue
                row["parameters"] = parameter_count(model)
                # forward checks are slow for the big models; one channel/class pair per model is enough to
                # show whether the reference runs, plus every pair where the reference is known to be fragile
                if (cin, classes) in ((2, 4), (1, 2), (3, 3), (4, 9)) and not options.get("depth"):
                    row["forward"] = check(model, name, cin, classes, **options)
                    if name == "RESNET3DVAE" and row["forward"] == "ok":
                        row["vae_log_variance_has_nan"] = vae_log_variance_has_nan(model, cin, options["dim"])
                rows.append(row)
        table[name] = rows
    source = ("benchmarks/reference_models.py (PyTorch " + torch.__version__ + "), command: /usr/bin/python3 "
              "benchmarks/reference_models.py > MedZoo.Tests/Engine/Networks/reference_parameter_counts.json")
    # One configuration per line keeps the committed file small and its diffs readable.
    lines = ['{', f' "_source": {json.dumps(source)},']
    for i, (name, rows) in enumerate(table.items()):
        lines.append(f' {json.dumps(name)}: [')
        lines += [f'  {json.dumps(r)}' + (',' if j < len(rows) - 1 else '') for j, r in enumerate(rows)]
        lines.append(' ]' + (',' if i < len(table) - 1 else ''))
    lines.append('}')
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
